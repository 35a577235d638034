"""Domain errors: one base class, one subclass per rule, messages as constants.

Views turn them into form errors or flash messages; the API into
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from workspaces.time_zones import UNKNOWN_TIME_ZONE


class DomainError(Exception):
    code = "domain_error"
    message: Any = _("This operation is not allowed.")

    def __init__(self, message: Any = None, **details: Any) -> None:
        if message is not None:
            self.message = message
        self.details = details
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    code = "permission_denied"


class InvitationInvalid(DomainError):
    code = "invitation_invalid"
    message = _("This invitation link is not valid.")


class InvitationExpired(DomainError):
    code = "invitation_expired"
    message = _("This invitation has expired. Ask an admin of the workspace to send a new one.")


class InvitationAlreadyUsed(DomainError):
    code = "invitation_used"
    message = _("This invitation has already been used.")


class InvitationRevoked(DomainError):
    code = "invitation_revoked"
    message = _("This invitation has been withdrawn by the workspace.")


class InvitationEmailMismatch(DomainError):
    code = "invitation_email_mismatch"
    message = _("This invitation was sent to another email address. Sign in with that address to accept it.")


class AlreadyMember(DomainError):
    code = "already_member"
    message = _("This person is already a member of the workspace.")


class AlreadyInvited(DomainError):
    code = "already_invited"
    message = _("An invitation is already pending for this email address.")


class OwnerRoleNotAssignable(DomainError):
    code = "owner_not_assignable"
    message = _(
        "A workspace has exactly one owner. The owner role moves only by an explicit transfer of ownership."
    )


class OwnerCannotBeChanged(DomainError):
    code = "owner_cannot_be_changed"
    message = _("The owner's role cannot be changed or removed. Transfer ownership first.")


class UnknownTimeZone(DomainError):
    """Not one of the IANA zones offered (:data:`workspaces.time_zones.BILLING_TIME_ZONES`)."""

    code = "unknown_time_zone"

    def __init__(self, *, value: str, **details: Any) -> None:
        super().__init__(UNKNOWN_TIME_ZONE % {"value": value}, value=value, **details)

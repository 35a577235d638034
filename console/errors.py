"""Why an operator's action was refused before it reached a service."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError


class ReasonRequired(DomainError):
    code = "operator_reason_required"
    message = _("Give a reason: it is kept in the audit trail.")


class ReferenceRequired(DomainError):
    code = "operator_reference_required"
    message = _("Give the payment's reference (a bank transfer's, a cheque's number).")


class NoOwner(DomainError):
    code = "operator_no_owner"
    message = _("This workspace has no owner to act on behalf of.")


class AmountInvalid(DomainError):
    code = "operator_amount_invalid"
    message = _("Give an amount greater than zero.")


class ReceiptUnavailable(DomainError):
    code = "operator_receipt_unavailable"
    message = _("Only a paid invoice has a receipt.")


class OperatorRefused(DomainError):
    """The operator's group does not allow this action (the admin answers 403)."""

    code = "operator_refused"
    message = _("Your operator group does not allow this action.")

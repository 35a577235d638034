"""Credit rules as domain errors; messages are constants the tests import."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError
from workspaces.permissions import REFUSAL_MESSAGES, Capability

INSUFFICIENT_CREDITS = _("Not enough AI credits for this action.")
ROLE_NOT_ALLOWED = REFUSAL_MESSAGES[Capability.USE_AI]
IDEMPOTENCY_KEY_REUSED = _("This idempotency key was already used for a different request.")
IDEMPOTENCY_KEY_REQUIRED = _("An Idempotency-Key header is required.")
UNKNOWN_ACTION = _("Unknown AI action.")
INVALID_QUANTITY = _("The quantity must be a whole number between 1 and 1,000,000.")
UNKNOWN_MEMBER = _("This user is not a member of the workspace.")
RESERVATION_NOT_FOUND = _("No such reservation in this workspace.")
RESERVATION_NOT_HELD = _("This reservation is no longer held: it was already captured, released or expired.")
INVALID_CREDITS = _("The number of credits must be a positive whole number.")
REASON_REQUIRED = _("Give a reason for this adjustment.")
SOURCE_REQUIRED = _("A purchase needs its source, such as invoice:42.")
UNKNOWN_WORKSPACE = _("No such workspace.")
API_KEY_NAME_REQUIRED = _("Give the key a name.")
API_KEY_NOT_FOUND = _("No such API key in this workspace.")
API_KEY_SCOPES_REQUIRED = _("Choose what the key may do: read the balance, consume credits, or both.")
API_KEY_EXPIRY_IN_PAST = _("The expiry date must be in the future.")
API_KEY_SCOPE_MISSING = _("This API key may not do this (scope %(scope)s missing).")

#: Bounds of one request's quantity (a prototype of 20 screens is quantity 20).
MAX_QUANTITY = 1_000_000


class InsufficientCredits(DomainError):
    code = "insufficient_credits"
    message = INSUFFICIENT_CREDITS

    def __init__(self, *, balance: int, required: int) -> None:
        super().__init__(balance=balance, required=required)
        self.balance = balance
        self.required = required


class RoleNotAllowed(DomainError):
    code = "role_not_allowed"
    message = ROLE_NOT_ALLOWED


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = IDEMPOTENCY_KEY_REUSED


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    message = IDEMPOTENCY_KEY_REQUIRED


class UnknownAction(DomainError):
    code = "unknown_action"
    message = UNKNOWN_ACTION


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    message = INVALID_QUANTITY


class UnknownMember(DomainError):
    code = "unknown_member"
    message = UNKNOWN_MEMBER


class ReservationNotFound(DomainError):
    code = "not_found"
    message = RESERVATION_NOT_FOUND


class ReservationNotHeld(DomainError):
    code = "reservation_not_held"
    message = RESERVATION_NOT_HELD


class InvalidCredits(DomainError):
    code = "invalid_credits"
    message = INVALID_CREDITS


class ReasonRequired(DomainError):
    code = "reason_required"
    message = REASON_REQUIRED


class SourceRequired(DomainError):
    code = "source_required"
    message = SOURCE_REQUIRED


class UnknownWorkspace(DomainError):
    code = "unknown_workspace"
    message = UNKNOWN_WORKSPACE


class ApiKeyNameRequired(DomainError):
    code = "api_key_name_required"
    message = API_KEY_NAME_REQUIRED


class ApiKeyNotFound(DomainError):
    code = "not_found"
    message = API_KEY_NOT_FOUND


class ApiKeyScopesRequired(DomainError):
    code = "api_key_scopes_required"
    message = API_KEY_SCOPES_REQUIRED


class ApiKeyExpiryInPast(DomainError):
    code = "api_key_expiry_in_past"
    message = API_KEY_EXPIRY_IN_PAST


class ScopeMissing(DomainError):
    """The key authenticates but was not given the scope this endpoint needs (403)."""

    code = "scope_missing"

    def __init__(self, scope: str) -> None:
        super().__init__(API_KEY_SCOPE_MISSING % {"scope": scope})

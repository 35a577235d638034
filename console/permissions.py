"""What each operator may do: the one place that answers (docs/rules/operators.md#groups).

Operators are staff users in the **support** or **finance** group (superusers may do
everything). Every operator action asks :func:`require` first; the admin's pages read
:func:`powers_of` to show only what the operator may use.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.utils.translation import gettext as _

from console.errors import OperatorRefused
from workspaces.models import User

SUPPORT = "support"
FINANCE = "finance"
GROUPS = (SUPPORT, FINANCE)


class Power(StrEnum):
    READ = "read"
    ADJUST_CREDITS = "adjust_credits"
    #: Credit adjustments beyond the support limit (:func:`support_credit_limit`).
    ADJUST_CREDITS_ANY = "adjust_credits_any"
    EXTEND_TRIAL = "extend_trial"
    RESEND_RECEIPT = "resend_receipt"
    REFUND = "refund"
    VOID_INVOICE = "void_invoice"
    RECORD_PAYMENT = "record_payment"
    RETRY_CHARGE = "retry_charge"
    ADJUST_BALANCE = "adjust_balance"
    CHANGE_SUBSCRIPTION = "change_subscription"


_SUPPORT_POWERS = frozenset({Power.READ, Power.ADJUST_CREDITS, Power.EXTEND_TRIAL, Power.RESEND_RECEIPT})
POWERS: dict[str, frozenset[Power]] = {
    SUPPORT: _SUPPORT_POWERS,
    FINANCE: frozenset(Power),
}


def powers_of(user: User) -> frozenset[Power]:
    """The union of the operator's groups' powers; none for a non-staff or inactive user."""
    if not (user.is_active and user.is_staff):
        return frozenset()
    if user.is_superuser:
        return frozenset(Power)
    names = {group.name for group in user.groups.all()}
    return frozenset().union(*(POWERS[name] for name in names if name in POWERS))


def may(user: User, power: Power) -> bool:
    return power in powers_of(user)


def require(user: User, power: Power) -> None:
    if not may(user, power):
        raise OperatorRefused()


def support_credit_limit() -> int:
    """The most credits a support operator may grant or take back at once
    (the ``OPERATOR_SUPPORT_CREDIT_LIMIT`` setting)."""
    return int(settings.OPERATOR_SUPPORT_CREDIT_LIMIT)


def require_credit_adjustment(user: User, credits: int) -> None:
    require(user, Power.ADJUST_CREDITS)
    if abs(credits) > support_credit_limit() and not may(user, Power.ADJUST_CREDITS_ANY):
        raise OperatorRefused(
            _("Support operators adjust at most %(limit)s credits at once; ask finance.")
            % {"limit": support_credit_limit()}
        )

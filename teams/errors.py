"""Seat rules the team services enforce; messages are constants tests import."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError

MEMBER_LIMIT_MESSAGE = _(
    "This team has reached its limit of %(max_members)s members. Contact our sales team if you need more."
)
MOBILE_LIMIT_MESSAGE = _(
    "A subscription bought on mobile is limited to %(max_members)s members (the admin and 2 others). "
    "Switch to a web subscription to add more members."
)
PERIOD_UNAVAILABLE_MESSAGE = _("The %(plan)s plan has no %(interval)s price: choose another billing period.")


class SeatError(DomainError):
    code = "seat_error"


class MemberLimitReached(SeatError):
    """``max_members`` (50); more is a conversation with sales (docs/rules/plans.md#member-caps)."""

    code = "member_limit_reached"

    def __init__(self, *, max_members: int, **details: Any) -> None:
        super().__init__(
            MEMBER_LIMIT_MESSAGE % {"max_members": max_members}, max_members=max_members, **details
        )


class MobileMemberLimit(SeatError):
    """A team bought on mobile holds at most 3 people (docs/rules/plans.md#member-caps)."""

    code = "mobile_member_limit"

    def __init__(self, *, max_members: int, **details: Any) -> None:
        super().__init__(
            MOBILE_LIMIT_MESSAGE % {"max_members": max_members}, max_members=max_members, **details
        )


class SeatPeriodUnavailable(SeatError):
    code = "seat_period_unavailable"

    def __init__(self, *, plan: str, interval: Any, **details: Any) -> None:
        super().__init__(PERIOD_UNAVAILABLE_MESSAGE % {"plan": plan, "interval": interval}, **details)


class SeatPeriodMobile(SeatError):
    code = "seat_period_mobile"
    message = _(
        "A billing period per member can only be chosen on a web subscription. "
        "Switch to a web subscription to choose weekly, monthly or annual billing for each member."
    )


class SeatPeriodDuringTrial(SeatError):
    code = "seat_period_during_trial"
    message = _(
        "During the free trial, every seat follows the subscription's billing period. "
        "Choose weekly, monthly or annual billing for this member once the trial has ended."
    )


class NoPaidSeat(SeatError):
    code = "no_paid_seat"
    message = _("This member holds no paid seat: only paid seats have their own billing period.")


class UnknownSeatPeriod(SeatError):
    code = "unknown_seat_period"
    message = _("Choose weekly, monthly or annual billing.")


class OwnershipNeedsSeat(SeatError):
    """docs/rules/roles.md#ownership-transfer: the new owner already holds a seat."""

    code = "ownership_needs_seat"
    message = _(
        "Ownership can only be transferred to a member who holds a seat (an admin, a billing admin "
        "or a member), never to a guest or a visitor. Change their role first."
    )

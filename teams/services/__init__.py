"""Seats: who takes one, what it costs and what a change charges or credits.

Rules (docs/rules/plans.md#seats, docs/rules/plans.md#member-caps,
docs/rules/proration.md#adding-a-seat, docs/rules/proration.md#removing-a-seat):

- A seat is a member holding a licence (:func:`workspaces.permissions.holds_licence`).
  Free and Education teams: seats are free. Otherwise the plan's included seats (Pro
  and Max: the admin + 2) and the extra seats bought in advance are filled first;
  every member beyond them holds a paid :class:`~teams.models.Seat`.
- ``max_members`` (50) caps the members holding a seat; a subscription bought on
  mobile holds 3. Checked when inviting (pending invitations count) and when
  accepting; a guest promoted to a licensed role takes a seat under the same rules.
- A new paid seat records a pending charge, prorated with
  :func:`domain.proration.charge_proration` over the seat's period; the daily
  seat job (:mod:`billing.seat_sweeps`) invoices it the day after. A co-termed seat is billed
  by the subscription from its next invoice on (renewal, plan change, annual switch:
  ``seat_amount x (extra_seats + co-termed paid seats)``); a seat on another interval
  only by its own anniversary renewal. So a co-termed seat taken during a trial, or
  after the subscription's period ended but before its renewal ran, records no charge:
  the trial's end or the renewal bills it.
- Billing's changes (purchase, plan change, annual switch, extra seats, trial end,
  expiry) price the seats with :func:`domain.seat_plan.plan_seats` and call
  :func:`seats_sync` in the same transaction, which applies that very plan.
- Releasing a paid seat (removal, or a member moved to a role without a licence)
  credits the unused time with :func:`domain.proration.removal_credit_proration`
  to the account balance; a charge not invoiced yet is reduced (netted) instead.
  Removing a member on an included seat while paid seats exist releases the newest
  paid seat: its holder now fills the freed included seat, so the workspace never
  pays for more seats than it has members beyond its capacity.
- Re-adding the same person the same day takes the same seat back, with its charge:
  nothing is charged twice.
- A change of a billed seat's billing period waits on the seat until its current paid
  unit ends (its week, its month, an annual seat's current month); the daily seat job
  applies it (:func:`seat_period_changes_apply`). Changing back before then costs nothing.
- No seat outlives its subscription: a seat renewal falling due before a cancelled
  subscription's end is charged only up to it (:func:`charge_up_to`, ``Seat.paid_until``),
  and when the subscription ends its seats end with it, the time paid beyond the end
  credited by the removal rule (:func:`seat_end_with_subscription`).

Every seat write takes the workspace's seat lock first (a transaction-scoped advisory
lock), then the subscription row (``FOR NO KEY UPDATE``, as billing's changes take
them: seat lock, then subscription row), then the account-balance lock of
:mod:`invoices.services` when it credits.
Modules: ``memberships`` (invitations, roles, ownership, removal), ``common`` (lock, prices, periods, caps), ``members`` (taking a seat),
``releases`` (removal and its preview), ``billing_periods``, ``sync`` (after billing
changed the subscription).
"""

# day_of and midnight are re-exported for billing's and demo's callers until they import
# them from domain.calendar, where they are defined.
from domain.calendar import day_of, midnight
from teams.services.billing_periods import seat_billing_period_set, seat_period_changes_apply
from teams.services.common import (
    charge_up_to,
    lock_seats,
    period_for,
    seat_check_invitation,
    seat_line_description,
    seat_price_cents,
    subscription_end,
    subscription_runs_at,
)
from teams.services.members import member_add, seat_on_member_joined
from teams.services.memberships import (
    check_invitation,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    ownership_transfer,
)
from teams.services.releases import (
    RemovalPreview,
    SeatRelease,
    member_remove,
    preview_member_removal,
    seat_credits_on_payment,
    seat_end_with_subscription,
    seat_on_role_change,
    seats_release_unpaid,
)
from teams.services.role_changes import RoleChangePreview, preview_role_change
from teams.services.sync import seats_sync

__all__ = [
    "check_invitation",
    "invitation_accept",
    "invitation_create",
    "invitation_resend",
    "invitation_revoke",
    "membership_change_role",
    "membership_remove",
    "ownership_transfer",
    "RemovalPreview",
    "SeatRelease",
    "charge_up_to",
    "day_of",
    "lock_seats",
    "member_add",
    "member_remove",
    "midnight",
    "period_for",
    "preview_member_removal",
    "preview_role_change",
    "RoleChangePreview",
    "seat_billing_period_set",
    "seat_check_invitation",
    "seat_credits_on_payment",
    "seat_end_with_subscription",
    "seat_line_description",
    "seat_on_member_joined",
    "seat_on_role_change",
    "seat_period_changes_apply",
    "seat_price_cents",
    "seats_release_unpaid",
    "seats_sync",
    "subscription_end",
    "subscription_runs_at",
]

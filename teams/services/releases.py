"""Releasing a seat: removal, a role without a licence; the preview uses the same code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.db import transaction
from django.db.models import F

from domain.calendar import day_of, midnight
from domain.proration import Proration
from domain.vat import vat_cents
from invoices.issuing import invoice_create
from invoices.models import PAYABLE_STATUSES
from invoices.selectors import latest_invoice, vat_context
from invoices.services import account_balance_credit
from invoices.totals import DraftLine
from subscriptions.models import Subscription
from subscriptions.pricing import own_seat_credit_line
from subscriptions.selectors import subscription_of
from teams import selectors
from teams.models import ChargeStatus, Seat, SeatCharge, SeatStatus
from teams.services.common import (
    charged_period,
    check_no_change_waits,
    check_room,
    held_free_in_trial,
    lock_seats,
    removal_credit,
    seat_line_description,
    subscription_locked,
)
from teams.services.members import assign_seat
from workspaces import errors as workspace_errors
from workspaces.models import Membership, Role, Workspace
from workspaces.permissions import Capability, holds_licence
from workspaces.services import require_capability

# --- releasing a seat --------------------------------------------------------------------


@dataclass(frozen=True)
class SeatRelease:
    """What releasing one paid seat does to the money, computed before it is done."""

    seat: Seat
    holder_email: str
    #: The removed member's own seat, or another member's paid seat freed by the removal.
    own_seat: bool
    plan_name: str
    #: The unused time of the billed period (None when nothing of it is left).
    credit: Proration | None
    #: Charges of the seat not invoiced yet, before and after the credit reduces them.
    pending_cents: int
    pending_after_cents: int
    #: What is credited (the credit beyond the pending charges), before VAT, and its VAT:
    #: a credit note gives both back (docs/rules/proration.md#credits-for-unused-time).
    credit_cents: int
    credit_vat_cents: int = 0
    #: The credit (before VAT, and its VAT) that waits for the unpaid invoice which charged
    #: the seat: given once it is paid, never if it is cancelled unpaid.
    withheld_cents: int = 0
    withheld_vat_cents: int = 0
    #: That unpaid charge.
    withheld_by: SeatCharge | None = None

    @property
    def credit_with_vat_cents(self) -> int:
        """What goes to the account balance, VAT included."""
        return self.credit_cents + self.credit_vat_cents

    @property
    def credit_total_cents(self) -> int:
        return self.credit.amount_cents if self.credit else 0

    @property
    def netted_cents(self) -> int:
        return self.pending_cents - self.pending_after_cents

    @property
    def formula(self) -> str:
        if self.credit is None:
            return ""
        return seat_line_description(
            plan_name=self.plan_name,
            email=self.holder_email,
            proration=self.credit,
            price_cents=self.seat.price_cents,
            currency=self.seat.currency,
        )


def release_terms(
    seat: Seat, subscription: Subscription, today: date, *, own_seat: bool, zone: tzinfo
) -> SeatRelease:
    start, end = charged_period(seat, subscription, zone)
    credit = None
    # Nothing of a trial was paid for a seat it holds free.
    unpaid_trial = held_free_in_trial(seat, subscription, midnight(today, zone))
    if not unpaid_trial:
        credit = removal_credit(seat, start, end, today, zone)
    pending = sum(c.amount_cents for c in SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING))
    credit_amount = credit.amount_cents if credit else 0
    netted = min(credit_amount, pending)
    rate, reverse_charge = vat_context(subscription.workspace)
    credited = credit_amount - netted
    withheld, unpaid = 0, None
    if credited:
        unpaid = unpaid_charge(seat)
    if unpaid is not None:
        # Only time paid for is credited: this one waits for the payment.
        withheld, credited = credited, 0
    return SeatRelease(
        seat=seat,
        holder_email=seat.user_email,
        own_seat=own_seat,
        plan_name=subscription.plan.name,
        credit=credit,
        pending_cents=pending,
        pending_after_cents=pending - netted,
        credit_cents=credited,
        credit_vat_cents=-vat_cents(-credited, vat_rate_bp=rate, reverse_charge=reverse_charge),
        withheld_cents=withheld,
        withheld_vat_cents=-vat_cents(-withheld, vat_rate_bp=rate, reverse_charge=reverse_charge),
        withheld_by=unpaid,
    )


def unpaid_charge(seat: Seat) -> SeatCharge | None:
    """The seat's latest invoiced charge whose invoice is still unpaid (in dunning), if any."""
    return (
        SeatCharge.objects.filter(
            seat=seat, status=ChargeStatus.INVOICED, invoice__status__in=PAYABLE_STATUSES
        )
        .order_by("-day", "-id")
        .first()
    )


def _seats_released_by(
    *, workspace: Workspace, membership: Membership, subscription: Subscription, today: date
) -> list[SeatRelease]:
    """The paid seats that stop being needed when ``membership`` gives up its licence."""
    if not holds_licence(membership.role):
        return []
    own = Seat.objects.filter(workspace=workspace, membership=membership, status=SeatStatus.ACTIVE).first()
    if own is not None:
        return [release_terms(own, subscription, today, own_seat=True, zone=workspace.billing_zone)]
    plan = subscription.plan
    paid = selectors.paid_seat_count(workspace)
    if plan.seats_are_free or paid == 0:
        return []
    licensed_after = selectors.licensed_count(workspace) - 1
    if licensed_after >= plan.included_seats + subscription.extra_seats + paid:
        return []
    # The freed included seat goes to the newest paid member; their paid seat ends.
    newest = (
        Seat.objects.filter(workspace=workspace, status=SeatStatus.ACTIVE)
        .exclude(membership=membership)
        .order_by("-added_at", "-id")
        .first()
    )
    if newest is None:
        return []
    return [release_terms(newest, subscription, today, own_seat=False, zone=workspace.billing_zone)]


def apply_money(release: SeatRelease, *, workspace: Workspace, source_prefix: str, now: datetime) -> Seat:
    """Net the pending charges, then credit the rest to the account balance."""
    seat = Seat.objects.select_for_update().get(pk=release.seat.pk)
    left = release.netted_cents
    for charge in (
        SeatCharge.objects.select_for_update()
        .filter(seat=seat, status=ChargeStatus.PENDING)
        .order_by("-day", "-id")
    ):
        if left <= 0:
            break
        take = min(left, charge.amount_cents)
        charge.amount_cents -= take
        left -= take
        if charge.amount_cents == 0:
            charge.status = ChargeStatus.CANCELED
            charge.canceled_at = now
        charge.save(update_fields=["amount_cents", "status", "canceled_at"])
    if release.withheld_by is not None:
        SeatCharge.objects.filter(pk=release.withheld_by.pk).update(
            credit_withheld_cents=F("credit_withheld_cents") + release.withheld_cents
        )
    seat.last_credit_cents = release.credit_cents
    if release.credit_cents:
        source = _next_credit_source(seat, source_prefix)
        _credit_note(release, seat, workspace=workspace, source=source, reason=source_prefix, now=now)
    return seat


def _credit_line(release: SeatRelease, seat: Seat, *, workspace: Workspace, now: datetime) -> DraftLine:
    """The credit note's line: the unused time (−1 × price × fraction), or, when part of it
    went to charges not invoiced yet, the rest as one amount (−1 × rest)."""
    start = midnight(day_of(now, workspace.billing_zone), workspace.billing_zone)
    if release.credit is not None and release.netted_cents == 0:
        return own_seat_credit_line(
            plan_name=release.plan_name,
            email=release.holder_email,
            price_cents=int(seat.price_cents),
            proration=release.credit,
            start=start,
            end=max(start, seat.period_end),
        )
    return _amount_credit_line(release.plan_name, seat, release.credit_cents, start)


def _amount_credit_line(plan_name: str, seat: Seat, amount_cents: int, start: datetime) -> DraftLine:
    """A seat's unused time given back as one amount (−1 × amount), from ``start`` to the
    end of the seat's period."""
    return DraftLine(
        kind="credit",
        subject=plan_name,
        seat_email=seat.user_email,
        amount_cents=-amount_cents,
        quantity=-1,
        unit_amount_cents=amount_cents,
        period_start=start,
        period_end=max(start, seat.period_end),
    )


def _next_credit_source(seat: Seat, prefix: str) -> str:
    """The source of the seat's next credit: ``<prefix>:<seat id>``, then ``:2``, ``:3``…
    (one document per credit, however often the same seat is credited)."""
    seat.credit_count += 1
    return f"{prefix}:{seat.pk}" + (f":{seat.credit_count}" if seat.credit_count > 1 else "")


def _credit_note(
    release: SeatRelease, seat: Seat, *, workspace: Workspace, source: str, reason: str, now: datetime
) -> None:
    """The unused time of a released seat, VAT included, by a credit note correcting the
    invoice that billed the seat (or the workspace's latest); its total goes to the account
    balance and pays the next invoices (docs/rules/proration.md#credits-for-unused-time)."""
    billed = (
        SeatCharge.objects.filter(seat=seat, status=ChargeStatus.INVOICED, invoice__isnull=False)
        .exclude(invoice__status="void")
        .order_by("-day", "-id")
        .values_list("invoice_id", flat=True)
        .first()
    )
    corrected = billed or getattr(latest_invoice(workspace), "pk", None)
    if corrected is None:
        # Nothing was ever invoiced to correct: the credit goes to the balance as it is.
        account_balance_credit(
            workspace=workspace,
            amount_cents=release.credit_with_vat_cents,
            currency=seat.currency,
            reason="seat_removal" if reason == "seat-removal" else "seat_period_change",
            source=source,
            now=now,
        )
        return
    invoice_create(
        workspace=workspace,
        lines=[_credit_line(release, seat, workspace=workspace, now=now)],
        billing_reason="seat_change",
        source=source,
        now=now,
        corrects_id=corrected,
    )


def seat_credits_on_payment(*, invoice_id: int, now: datetime) -> int:
    """The invoice was paid: the credits its seat charges withheld (their seats were
    released while it was unpaid) are given now, by a credit note correcting it, dated
    from each release (docs/rules/proration.md#removing-a-seat). Idempotent; returns the
    credit, before VAT."""
    given = 0
    charges = (
        SeatCharge.objects.select_for_update()
        .filter(invoice_id=invoice_id, credit_withheld_cents__gt=0)
        .select_related("seat", "workspace")
        .order_by("id")
    )
    for charge in charges:
        seat, workspace = charge.seat, charge.workspace
        amount = int(charge.credit_withheld_cents)
        charge.credit_withheld_cents = 0
        charge.save(update_fields=["credit_withheld_cents"])
        source = _next_credit_source(seat, "seat-removal")
        seat.save(update_fields=["credit_count"])
        zone = workspace.billing_zone
        start = midnight(day_of(seat.removed_at or now, zone), zone)
        invoice_create(
            workspace=workspace,
            lines=[_amount_credit_line(charge.plan_name, seat, amount, start)],
            billing_reason="seat_change",
            source=source,
            now=now,
            corrects_id=invoice_id,
        )
        given += amount
    return given


def _release(release: SeatRelease, *, workspace: Workspace, now: datetime) -> None:
    seat = apply_money(release, workspace=workspace, source_prefix="seat-removal", now=now)
    seat.status = SeatStatus.REMOVED
    seat.removed_at = now
    seat.membership = None
    seat.save()


def seat_end_with_subscription(
    seat: Seat, subscription: Subscription, *, workspace: Workspace, now: datetime
) -> None:
    """The subscription ended (an expiry, a fall back to a plan whose seats are free): the
    seat ends with it, today (docs/rules/lifecycle.md#end-of-a-subscription-ends-its-seats).

    Charges not invoiced yet are cancelled (the seat ends unbilled for them). A seat on
    its own interval paid beyond the end gets the unused part credited to the account
    balance by the removal rule (docs/rules/proration.md#removing-a-seat), less what those
    cancelled charges would have paid. A co-termed seat was billed with the subscription,
    whose period is what ended: nothing of it is left. The caller holds the seat lock.
    """
    if not seat.coterm:
        zone = workspace.billing_zone
        release = release_terms(seat, subscription, day_of(now, zone), own_seat=True, zone=zone)
        if release.credit_cents:
            seat = apply_money(release, workspace=workspace, source_prefix="seat-removal", now=now)
    SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
        status=ChargeStatus.CANCELED, canceled_at=now
    )
    seat.status, seat.removed_at, seat.membership = SeatStatus.REMOVED, now, None
    seat.pending_interval, seat.pending_at = "", None
    seat.save()


def seats_release_unpaid(*, workspace: Workspace, seat_ids: list[int], now: datetime) -> int:
    """The seats an invoice never paid billed end now, with nothing credited: its last
    dunning retry failed (docs/rules/dunning.md#last-failure). Their members stay in the
    workspace without a licence (as guests); the owner keeps the owner role, so the
    subscription's next renewal bills their seat again. Returns how many seats ended."""
    lock_seats(workspace.pk)
    ended = 0
    for seat in Seat.objects.select_for_update().filter(
        workspace=workspace, pk__in=seat_ids, status=SeatStatus.ACTIVE
    ):
        SeatCharge.objects.filter(seat=seat, status=ChargeStatus.PENDING).update(
            status=ChargeStatus.CANCELED, canceled_at=now
        )
        holder = seat.membership_id
        seat.status, seat.removed_at, seat.membership = SeatStatus.REMOVED, now, None
        seat.pending_interval, seat.pending_at = "", None
        seat.save()
        if holder is not None:
            Membership.objects.filter(pk=holder).exclude(role=Role.OWNER).update(role=Role.GUEST)
        ended += 1
    return ended


@dataclass(frozen=True)
class RemovalPreview:
    """What removing a member does: the seats released and the credit the workspace gets."""

    membership: Membership
    releases: tuple[SeatRelease, ...]
    currency: str

    @property
    def credit_cents(self) -> int:
        """Credited to the account balance, VAT included, applied to the next invoice."""
        return sum(r.credit_with_vat_cents for r in self.releases)

    @property
    def netted_cents(self) -> int:
        """Taken off seat charges not invoiced yet."""
        return sum(r.netted_cents for r in self.releases)

    @property
    def total_credit_cents(self) -> int:
        return self.credit_cents + self.netted_cents

    @property
    def withheld_cents(self) -> int:
        """Credited, VAT included, only once the unpaid invoice that charged the seats is
        paid (nothing if it is cancelled unpaid)."""
        return sum(r.withheld_cents + r.withheld_vat_cents for r in self.releases)


def _removal_plan(
    *, workspace: Workspace, actor: Membership, membership: Membership, now: datetime, lock: bool = False
) -> RemovalPreview:
    require_capability(actor, Capability.MANAGE_MEMBERS)
    if actor.workspace_id != workspace.pk or membership.workspace_id != workspace.pk:
        raise workspace_errors.PermissionDenied()
    if membership.role == Role.OWNER:
        raise workspace_errors.OwnerCannotBeChanged()
    subscription = subscription_locked(workspace) if lock else subscription_of(workspace)
    check_no_change_waits(subscription)
    releases = _seats_released_by(
        workspace=workspace,
        membership=membership,
        subscription=subscription,
        today=day_of(now, workspace.billing_zone),
    )
    return RemovalPreview(
        membership=membership, releases=tuple(releases), currency=subscription.price.currency
    )


def preview_member_removal(
    *, workspace: Workspace, actor: Membership, membership: Membership, now: datetime
) -> RemovalPreview:
    """The credit removing ``membership`` gives, computed by the very code that removes it
    (:func:`member_remove`): what is previewed is what is credited, to the cent."""
    return _removal_plan(workspace=workspace, actor=actor, membership=membership, now=now)


@transaction.atomic
def member_remove(
    *, workspace: Workspace, actor: Membership, membership: Membership, now: datetime
) -> RemovalPreview:
    """Remove a member (never the owner; owners and admins only,
    docs/rules/roles.md#capability-matrix). A paid seat released credits its unused time
    (docs/rules/proration.md#removing-a-seat: monthly from the removal day, annual the
    months after the current one) to the account balance, or reduces its charge when that
    is not invoiced yet."""
    # Lock order, as in workspaces.services: the membership row, then the seat lock.
    membership = Membership.objects.select_for_update().get(pk=membership.pk, workspace=workspace)
    lock_seats(workspace.pk)
    plan = _removal_plan(workspace=workspace, actor=actor, membership=membership, now=now, lock=True)
    for release in plan.releases:
        _release(release, workspace=workspace, now=now)
    membership.delete()
    return plan


def seat_on_role_change(*, membership: Membership, new_role: str, now: datetime) -> None:
    """A role change that gains a licence takes a seat (caps included: a guest cannot take
    a seat beyond them); one that loses it releases a seat like a removal. Called before
    the new role is saved."""
    had, gets = holds_licence(membership.role), holds_licence(new_role)
    if had == gets:
        return
    workspace = membership.workspace
    lock_seats(workspace.pk)
    subscription = subscription_locked(workspace)
    check_no_change_waits(subscription)
    if gets:
        check_room(subscription, licensed_after=selectors.licensed_count(workspace) + 1)
        assign_seat(workspace=workspace, membership=membership, subscription=subscription, now=now)
        return
    for release in _seats_released_by(
        workspace=workspace,
        membership=membership,
        subscription=subscription,
        today=day_of(now, workspace.billing_zone),
    ):
        _release(release, workspace=workspace, now=now)

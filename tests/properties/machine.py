"""The state of one example of :class:`tests.properties.test_billing_state_machine.BillingLife`
and the steps every rule shares: observe, confirm a preview, replay it, check it against
what it moved. The rules live in :mod:`~tests.properties.plan_rules`,
:mod:`~tests.properties.seat_rules` and :mod:`~tests.properties.clock_rules`."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.core import mail
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
)

from billing.services import ApplyResult, Preview
from gateways.base import PaymentError
from invoices.errors import InvoiceError
from invoices.models import Charge, DocumentType, Invoice, InvoiceStatus
from subscriptions import errors as billing_errors
from subscriptions.models import PendingChangeState, Price, Subscription, SubscriptionStatus
from teams.models import ChargeStatus, SeatCharge
from tests.properties import checks, money, waiting, world
from tests.properties.model import CHANGE, REMOVAL, Holding, Key, Observation
from workspaces.errors import DomainError, PermissionDenied
from workspaces.models import Membership, Role, Workspace

#: Refusals that are bugs, not answers: a stale preview in a sequential run, an issued
#: invoice touched, the gateway's "outcome unknown", a manager refused.
UNEXPECTED = (billing_errors.StalePreview, InvoiceError, PaymentError, PermissionDenied)

PLANS = ["starter", "pro", "business", "max", "team-starter", "enterprise"]
INTERVALS = ["week", "month", "year"]
#: The demo catalog's prices (docs/rules/plans.md#demo-catalog): weekly for Pro and Max only.
SOLD = [
    (plan, interval)
    for plan in PLANS
    for interval in INTERVALS
    if interval != "week" or plan in ("pro", "max")
]
#: What the payer does when the bank asks to confirm the charge of a change they just
#: confirmed: completes the check on the confirmation page, fails it, or leaves it for
#: later (the emailed link, or the change lapses).
PAYER = st.sampled_from(["authenticates", "fails", "leaves"])
ROLES = [Role.MEMBER, Role.MEMBER, Role.ADMIN, Role.BILLING_ADMIN, Role.GUEST]

#: First instants: month ends, a leap day, the seller's new year (23:30 UTC on 31
#: December is already 1 January in Paris), and anywhere in 2026-2028.
STARTS = st.one_of(
    st.sampled_from(
        [
            datetime(2026, 1, 31, 10, 0, tzinfo=UTC),
            datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
            datetime(2027, 2, 27, 9, 0, tzinfo=UTC),
            datetime(2028, 2, 28, 12, 0, tzinfo=UTC),
            datetime(2028, 2, 29, 8, 0, tzinfo=UTC),
            datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
            datetime(2027, 8, 31, 23, 45, tzinfo=UTC),
        ]
    ),
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2028, 12, 31),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(second=0, microsecond=0)),
)


def _refused(exc: Exception) -> bool:
    return isinstance(exc, DomainError) and not isinstance(exc, UNEXPECTED)


class BillingLifeBase(RuleBasedStateMachine):
    #: The workspace the rules act on, and a bystander whose books they must never touch;
    #: opened by :meth:`tests.properties.plan_rules.PlanRules.open_workspaces`.
    ws: Workspace
    other: Workspace
    removed_users: list[Any]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        mail.outbox = []
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.steps: list[str] = []
        self.seen: dict[int, str] = {}
        self.timelines: dict[Any, list[Observation]] = {}
        self.ghosts: dict[Any, dict[Key, Holding]] = {}
        self.forgone: dict[Any, money.Forgone] = {}
        self.keys = itertools.count(1)
        self.ticked = True
        self.seen_seats: dict[Any, set[int]] = {}
        #: The next renewal the last confirmation announced: amount, date, what it depends on.
        self.quote: tuple[int, datetime, tuple[object, ...], str] | None = None
        self.other_digest: tuple[object, ...] = ()
        #: The changes confirmed whose payment waits for the payer's authentication.
        self.waits: list[waiting.Wait] = []
        #: Set when a waiting change was applied during the step being observed.
        self.applied_from: int | None = None

    def teardown(self) -> None:
        if os.environ.get("BILLING_PROPERTIES_VERBOSE") and self.timelines:
            timeline = self.timelines[self.ws.pk]
            statuses = sorted(
                Invoice.objects.filter(workspace=self.ws).values_list("billing_reason", "status").distinct()
            )
            print(
                f"\nLIFE {timeline[0].at:%Y-%m-%d} → {self.now:%Y-%m-%d}, documents {statuses}: "
                + " | ".join(self.steps)
            )
        try:
            transaction.set_rollback(True)
        finally:
            self._atomic.__exit__(None, None, None)

    # --- set-up -------------------------------------------------------------------------------

    # --- what the machine knows between steps -----------------------------------------------------

    @property
    def owner(self) -> Membership:
        return world.current_owner(self.ws)

    @property
    def last(self) -> Observation:
        return self.timelines[self.ws.pk][-1]

    def _on_paid_plan(self) -> bool:
        return self.last.meta["plan"] != "free"

    def _changeable(self) -> bool:
        """On a paid plan, neither cancelled nor past due: the changes that cost money are
        refused otherwise (docs/rules/lifecycle.md#statuses), which is exercised once in a
        while through the statuses a step leaves behind."""
        return self._on_paid_plan() and self.last.meta["status"] in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
        )

    def _observe(self, counted_end: str, own_end: str, *, tick: bool = False, settles: bool = False) -> None:
        """Record what the workspace holds after the step (the model's timeline); the
        bystander only moves when the sweeps run. A step that ``settles`` unpaid invoices
        (the sweeps, a new card, "Payer maintenant") may release seats or expire the
        subscription."""
        settles = settles or tick
        self._follow_waits()
        for workspace in (self.ws, self.other) if tick else (self.ws,):
            timeline = self.timelines[workspace.pk]
            ghosts = self.ghosts[workspace.pk]

            def look(
                counted: str, own: str, workspace: Workspace = workspace, ghosts: dict[Key, Holding] = ghosts
            ) -> Observation:
                return world.observe(
                    workspace, now=self.now, counted_end=counted, own_end=own, renews=tick, ghosts=ghosts
                )

            observation = look(counted_end, own_end)
            if settles and timeline and _released_unpaid(timeline[-1], observation, ghosts, self.now):
                observation = look(counted_end, own_end)
            if (
                settles
                and timeline
                and timeline[-1].meta["plan"] != "free"
                and observation.meta["plan"] == "free"
            ):
                # An expiry: the subscription's period is forfeited, its seats on their own
                # interval given up by the removal rule (docs/rules/lifecycle.md#expiry).
                for key, holding in timeline[-1].holdings.items():
                    if key[0] in ("base", "seats") and key not in observation.holdings:
                        ghosts[key] = holding
                observation = look(REMOVAL, REMOVAL)
            seen = self.seen_seats.setdefault(workspace.pk, set())
            if timeline:
                # The same person back the same day takes back the seat they released, and
                # its credit: its removal is undone (docs/rules/proration.md#removing-a-seat).
                back = set(_ids(observation, "coterm_seats")) & seen
                observation.taken_back = len(back - set(_ids(timeline[-1], "seats")))
            seen.update(_ids(observation, "seats"))
            timeline.append(observation)
            if workspace.pk == self.ws.pk and self.applied_from is not None:
                _backdate(timeline, self.applied_from)
        self.applied_from = None
        if tick:
            self.other_digest = checks.tenant_digest(self.other)
        self.ticked = tick

    def _canceled_charges(self) -> set[int]:
        return set(
            SeatCharge.objects.filter(status=ChargeStatus.CANCELED, amount_cents__gt=0).values_list(
                "pk", flat=True
            )
        )

    # --- confirmations ------------------------------------------------------------------------------

    def _confirm(
        self,
        what: str,
        make_preview: Callable[[], Preview],
        apply: Callable[[str], ApplyResult],
        *,
        double: bool,
        packs: int = 0,
        payer: str = "leaves",
    ) -> None:
        """Preview, then confirm with the preview's token as the page posts it; what the
        confirmation charged or credited is what the preview said (docs/rules/lifecycle.md#previews)."""
        ws = self.ws
        with world.clock(self.now):
            before = world.money_state(ws)
            refusal = ""
            try:
                preview = make_preview()
                result = apply(preview.confirmation)
            except Exception as exc:
                if not _refused(exc):
                    raise
                refusal = type(exc).__name__
            if refusal:
                # Refused (a change waits for authentication, no card…): nothing moved.
                assert world.money_state(ws) == before, f"{what}: refused ({refusal}), yet it moved money"
                self.steps.append(f"{what}: refused ({refusal})")
                return
            after = world.money_state(ws)
            waits = self._check_preview(what, preview, result, before, after)
            if double:
                self._replay(what, preview, apply, result, after)
        invoice = result.invoice
        self.quote = None
        if waits:
            assert invoice is not None
            sub = _subscription(ws)
            seats = world.billing_digest(ws)[7]
            self.waits.append(
                waiting.Wait(
                    invoice.pk,
                    what,
                    preview,
                    packs,
                    self.now,
                    waiting.terms_of(ws),
                    # A subscription from Free is priced in a period of its own, starting now.
                    None if sub.plan.is_free else sub.current_period_end,
                    seats,
                    seats,
                    len(self.timelines[ws.pk]),
                )
            )
            self.forgone[ws.pk].waiting.add(invoice.pk)
            self.steps.append(
                f"{what}: due {preview.total_due_now_cents}, invoice {invoice.number} awaits authentication"
            )
            self._then(payer, invoice.pk)
            return
        applied = invoice is None or invoice.status != InvoiceStatus.VOID
        self._quote(preview, what, applied)
        if invoice is not None:
            invoice.refresh_from_db()
            if invoice.status == InvoiceStatus.VOID:
                self.forgone[ws.pk].declined.add(invoice.pk)
            elif packs and invoice.status == InvoiceStatus.PAID:
                self.forgone[ws.pk].packs_cents += packs * int(_subscription(ws).price.credit_pack_amount)
        elif preview.account_credit_cents:
            entry = after["entries"] - before["entries"]
            for source in entry:
                self.forgone[ws.pk].direct_credit_ht[source] = -preview.totals.subtotal_cents
        self.steps.append(
            f"{what}: due {preview.total_due_now_cents}, credit {preview.account_credit_cents}"
            + (f", invoice {invoice.number} {invoice.status}" if invoice else "")
        )

    def _then(self, payer: str, invoice_id: int) -> None:
        """The payer, asked by the bank to confirm the charge, completes or fails the check
        at once, or leaves it waiting."""
        if payer == "leaves":
            return
        (charge,) = [c for c in world.awaiting_authentication(self.ws) if c.invoice_id == invoice_id]
        success = payer == "authenticates"
        label: list[str] = []
        self._settle(
            lambda: label.append(waiting.authenticate(self.ws, charge, success=success, now=self.now))
        )
        self.steps.append(label[0])

    def _quote(self, preview: Preview, what: str, applied: bool) -> None:
        """Keep the next renewal an applied change announced, to check it when it falls due."""
        digest = world.billing_digest(self.ws)
        cents, starts = preview.next_renewal_cents, preview.next_renewal_at
        if applied and cents is not None and starts is not None and not digest[-1]:
            self.quote = (cents, starts, digest, what)

    def _follow_waits(self) -> None:
        """What became of the changes waiting for authentication, after every step: still
        waiting, paid and applied as previewed, or dropped with nothing applied."""
        forgone = self.forgone[self.ws.pk]
        for wait in list(self.waits):
            state = waiting.state_of(wait)
            if state == PendingChangeState.WAITING:
                waiting.check_waiting(wait, self.ws, self.now)
                wait.seats_last = world.billing_digest(self.ws)[7]
                continue
            self.waits.remove(wait)
            forgone.waiting.discard(wait.invoice_id)
            if state == PendingChangeState.APPLIED:
                waiting.check_applied(wait, self.ws, self.now)
                self.applied_from = wait.observed_from
                forgone.packs_cents += wait.packs * int(_subscription(self.ws).price.credit_pack_amount)
                # The renewal it announced, unless the seats moved while it waited.
                self.quote = None
                self._quote(wait.preview, wait.what, wait.seats_last == wait.seats)
                self.steps.append(f"  {wait.what}: paid and applied")
            else:
                how = waiting.check_dropped(wait, self.ws)
                forgone.declined.add(wait.invoice_id)
                self.steps.append(f"  {wait.what}: {how}")

    def _replay(
        self,
        what: str,
        preview: Preview,
        apply: Callable[[str], ApplyResult],
        result: ApplyResult,
        after: dict[str, Any],
    ) -> None:
        """The same confirmation again (a double click, a retried request) is the first
        operation: it returns the first result and moves nothing more."""
        again = apply(preview.confirmation)
        assert world.money_state(self.ws) == after, (
            f"{what}: confirming the same preview twice moved money again"
        )
        assert (again.invoice.pk if again.invoice else None) == (
            result.invoice.pk if result.invoice else None
        ), f"{what}: a second confirmation of one preview is another operation"

    def _check_preview(
        self, what: str, preview: Preview, result: ApplyResult, before: dict[str, Any], after: dict[str, Any]
    ) -> bool:
        """What the confirmation moved is what its preview said; returns whether the change
        waits for the payer's authentication."""
        invoice = result.invoice
        new_charges = after["charges"] - before["charges"]
        if preview.total_due_now_cents > 0:
            assert invoice is not None, f"{what}: {preview.total_due_now_cents} due now, no invoice"
            invoice.refresh_from_db()
            assert [(line.kind, line.amount_cents) for line in invoice.lines.order_by("position")] == [
                (line.kind, line.amount_cents) for line in preview.lines
            ], f"{what}: the invoice's lines are not the preview's"
            assert (invoice.total_cents, invoice.amount_due_cents) == (
                preview.totals.total_cents,
                preview.total_due_now_cents,
            ), f"{what}: previewed {preview.total_due_now_cents} due, invoiced {invoice.amount_due_cents}"
            charges = Charge.objects.filter(pk__in=new_charges)
            assert [c.amount_cents for c in charges] == [preview.total_due_now_cents], (
                f"{what}: previewed {preview.total_due_now_cents}, charged {[c.amount_cents for c in charges]}"
            )
            if charges[0].status == "succeeded":
                assert invoice.status == InvoiceStatus.PAID, f"{what}: charged but {invoice.status}"
            elif charges[0].status == "requires_action":
                waiting.check_confirmed(what, preview, invoice, before, after, self.now)
                return True
            else:
                assert invoice.status == InvoiceStatus.VOID, f"{what}: declined but {invoice.status}"
                assert after["state"] == before["state"], (
                    f"{what}: a declined charge changed the subscription"
                )
                assert after["balance"] == before["balance"], (
                    f"{what}: a declined charge moved the account balance"
                )
        else:
            assert not new_charges, f"{what}: nothing due now, yet charged"
            credited = after["balance"] - before["balance"]
            if preview.account_credit_cents > 0:
                assert credited == preview.account_credit_cents, (
                    f"{what}: previewed a credit of {preview.account_credit_cents}, the balance moved {credited}"
                )
                if invoice is not None:
                    assert invoice.document_type == DocumentType.CREDIT_NOTE
                    assert invoice.total_cents == -preview.account_credit_cents
            elif preview.totals.total_cents > 0:
                assert invoice is not None, f"{what}: paid from the account balance, no invoice"
                assert invoice.status == InvoiceStatus.PAID, (
                    f"{what}: paid from the balance but {invoice.status}"
                )
                assert invoice.total_cents == preview.totals.total_cents, what
                assert -credited == preview.totals.account_credit_applied_cents, (
                    f"{what}: previewed {preview.totals.account_credit_applied_cents} from the balance, used {-credited}"
                )
            else:
                assert invoice is None, f"{what}: nothing previewed, yet {invoice} issued"
                assert credited == 0, f"{what}: nothing previewed, yet {credited} moved"
        return False

    # --- the subscription ----------------------------------------------------------------------------

    def _settle(self, run: Callable[[], object]) -> None:
        """Run something that collects unpaid invoices; seat charges it cancels unbilled (a
        subscription ended, seats released unpaid) are forgone by the product."""
        canceled = self._canceled_charges()
        run()
        for workspace in (self.ws, self.other):
            self.forgone[workspace.pk].forgone_charges.update(
                SeatCharge.objects.filter(
                    pk__in=self._canceled_charges() - canceled, workspace=workspace
                ).values_list("pk", flat=True)
            )

    def _save_card(self, card: str) -> None:
        self._settle(lambda: world.save_card(self.ws, self.owner, card, now=self.now))
        self.steps.append(f"card {card[-4:]}")
        self._observe(CHANGE, CHANGE, settles=True)

    def _skip(self, why: str) -> None:
        self.steps.append(why)
        self._observe(CHANGE, CHANGE)


def _ids(observation: Observation, name: str) -> frozenset[int]:
    ids = observation.meta[name]
    assert isinstance(ids, frozenset)
    return ids


def _released_unpaid(
    before: Observation, after: Observation, ghosts: dict[Key, Holding], now: datetime
) -> bool:
    """Seats a sweep ended while the subscription goes on: their charge's last retry failed,
    and they end with nothing credited (docs/rules/dunning.md#last-failure). What they were
    billed for counts as held to the end of its period, and the cancelled invoice as
    forgone (:func:`tests.properties.money.money_of`). Adds them to ``ghosts``."""
    if after.meta["plan"] == "free":
        return False
    gone = _ids(before, "seats") - _ids(after, "seats")
    if not gone:
        return False
    own_gone = [key for key in before.holdings if key[0] == "own" and key[1] in gone]
    for key in own_gone:
        ghosts[key] = before.holdings[key]
    counted = len(gone) - len(own_gone)
    if counted:
        seats = [key for key in after.holdings if key[0] == "seats"] or [
            key for key in before.holdings if key[0] == "seats"
        ]
        if seats:
            holding = after.holdings.get(seats[0]) or before.holdings[seats[0]]
            ghosts[("released", *seats[0][1:], now)] = replace(holding, count=counted)
    return True


def _price(plan: str, interval: str) -> Price | None:
    return Price.objects.filter(plan__code=plan, interval=interval, currency="EUR", is_active=True).first()


def _subscription(workspace: Workspace) -> Subscription:
    return Subscription.objects.select_related("plan", "price").get(workspace=workspace)


def _pending_cents(workspace: Workspace) -> int:
    return sum(
        SeatCharge.objects.filter(workspace=workspace, status=ChargeStatus.PENDING).values_list(
            "amount_cents", flat=True
        )
    )


def _backdate(timeline: list[Observation], start: int) -> None:
    """A change applied once its payment was authenticated keeps the dates it was priced
    and paid for (docs/rules/lifecycle.md#pay-then-apply): the plan and the seats the
    subscription bills, as they are now, are held from the confirming step on."""
    now = timeline[-1].holdings
    billed = {key: holding for key, holding in now.items() if key[0] in ("base", "seats")}
    for observation in timeline[start:-1]:
        kept = {
            key: holding for key, holding in observation.holdings.items() if key[0] not in ("base", "seats")
        }
        observation.holdings = {**kept, **billed}

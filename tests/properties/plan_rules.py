"""What a customer does to the subscription: subscribe, change plan, customize, buy
packs, switch to annual (each maybe waiting for the payer's 3-D Secure authentication),
cancel, reactivate, the billing time zone; and the host product using credits."""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    precondition,
    rule,
)

from billing import services
from credits.errors import InsufficientCredits
from credits.services import credits_consume
from subscriptions.models import CancelReason, SubscriptionStatus
from tests.properties import money, world
from tests.properties.machine import (
    PAYER,
    SOLD,
    STARTS,
    BillingLifeBase,
    _price,
    _refused,
    _subscription,
)
from tests.properties.model import CHANGE, REMOVAL
from workspaces.models import Role


class PlanRules(BillingLifeBase):
    @initialize(
        start=STARTS,
        members=st.integers(0, 4),
        plan=st.one_of(st.none(), st.sampled_from(SOLD)),
        trial=st.booleans(),
        extra=st.integers(0, 2),
        card=st.sampled_from([None, None, world.CARD_DECLINED, world.CARD_3DS]),
        card_first=st.booleans(),
    )
    def open_workspaces(
        self,
        start: datetime,
        members: int,
        plan: tuple[str, str] | None,
        trial: bool,
        extra: int,
        card: str | None,
        card_first: bool,
    ) -> None:
        """The workspace opens with a card and a team, on Free or subscribing at once, and
        maybe a card that declines or asks for authentication from then on (saved before
        subscribing or after); the bystander is on Business with a member and pays its
        renewals."""
        self.now = start
        self.ws, owner = world.open_workspace("Life", now=start)
        world.save_card(self.ws, owner, world.CARD_OK, now=start)
        for _n in range(members):
            world.join(self.ws, owner, world.new_user("member"), Role.MEMBER, now=start)
        self.other, other_owner = world.open_workspace("Bystander", now=start)
        world.join(self.other, other_owner, world.new_user("bystander"), Role.MEMBER, now=start)
        world.save_card(self.other, other_owner, world.CARD_OK, now=start)
        with world.clock(start):
            price = _price("business", "month")
            assert price is not None
            preview = services.preview_subscribe(workspace=self.other, price_id=price.pk, now=start)
            services.apply_subscribe(
                workspace=self.other,
                actor=other_owner,
                price_id=price.pk,
                preview=preview.confirmation,
                now=start,
            )
        self.removed_users = []
        for workspace in (self.ws, self.other):
            self.timelines[workspace.pk] = []
            self.ghosts[workspace.pk] = {}
            self.forgone[workspace.pk] = money.Forgone(set(), set(), {})
        self._observe(CHANGE, CHANGE, tick=True)
        self.steps.append(f"open at {start.isoformat()} with {members} members")
        if card is not None and card_first:
            self._save_card(card)
        if plan is not None:
            self.subscribe(plan, extra, trial, double=False)
        if card is not None and not card_first:
            self._save_card(card)

    @precondition(lambda self: not self._on_paid_plan())
    @rule(
        plan=st.sampled_from(SOLD),
        extra=st.integers(0, 3),
        trial=st.booleans(),
        double=st.booleans(),
        payer=PAYER,
    )
    def subscribe(
        self, plan: tuple[str, str], extra: int, trial: bool, double: bool, payer: str = "leaves"
    ) -> None:
        plan_code, interval = plan
        price = _price(plan_code, interval)
        assert price is not None, f"{plan_code}/{interval} is not sold"
        self._confirm(
            f"subscribe {plan_code}/{interval} +{extra}{' trial' if trial else ''}",
            lambda: services.preview_subscribe(
                workspace=self.ws, price_id=price.pk, trial=trial, extra_seats=extra, now=self.now
            ),
            lambda confirmation: services.apply_subscribe(
                workspace=self.ws,
                actor=self.owner,
                price_id=price.pk,
                trial=trial,
                extra_seats=extra,
                preview=confirmation,
                now=self.now,
            ),
            double=double,
            payer=payer,
        )
        self._observe(CHANGE, CHANGE)

    @precondition(lambda self: self._changeable())
    @rule(pick=st.integers(0, 10), double=st.booleans(), payer=PAYER)
    def change_plan(self, pick: int, double: bool, payer: str) -> None:
        current = _subscription(self.ws)
        plans = [p for p, interval in SOLD if interval == current.price.interval and p != current.plan.code]
        plan = plans[pick % len(plans)]
        price = _price(plan, current.price.interval)
        assert price is not None
        self._confirm(
            f"change to {plan}",
            lambda: services.preview_change_plan(workspace=self.ws, price_id=price.pk, now=self.now),
            lambda confirmation: services.apply_change_plan(
                workspace=self.ws, actor=self.owner, price_id=price.pk, preview=confirmation, now=self.now
            ),
            double=double,
            payer=payer,
        )
        self._observe(CHANGE, CHANGE)

    @precondition(lambda self: self._changeable())
    @rule(extra=st.integers(0, 5), packs=st.integers(0, 2), double=st.booleans(), payer=PAYER)
    def customize(self, extra: int, packs: int, double: bool, payer: str) -> None:
        self._customize(extra, packs, double, payer)

    @precondition(lambda self: self._changeable())
    @rule(packs=st.integers(1, 3), double=st.booleans(), payer=PAYER)
    def buy_credit_packs(self, packs: int, double: bool, payer: str) -> None:
        self._customize(_subscription(self.ws).extra_seats, packs, double, payer)

    def _customize(self, extra: int, packs: int, double: bool, payer: str) -> None:
        self._confirm(
            f"customize: {extra} extra seats, {packs} packs",
            lambda: services.preview_customize(
                workspace=self.ws, extra_seats=extra, credit_packs=packs, now=self.now
            ),
            lambda confirmation: services.apply_customize(
                workspace=self.ws,
                actor=self.owner,
                extra_seats=extra,
                credit_packs=packs,
                preview=confirmation,
                now=self.now,
            ),
            double=double,
            payer=payer,
            packs=packs,
        )
        # Fewer extra seats are credited by the removal rule (docs/rules/proration.md#removing-a-seat).
        self._observe(REMOVAL, CHANGE)

    @precondition(lambda self: self._changeable() and self.last.meta["interval"] == "month")
    @rule(double=st.booleans(), payer=PAYER)
    def switch_to_annual(self, double: bool, payer: str) -> None:
        self._confirm(
            "switch to annual",
            lambda: services.preview_switch_to_annual(workspace=self.ws, now=self.now),
            lambda confirmation: services.apply_switch_to_annual(
                workspace=self.ws, actor=self.owner, preview=confirmation, now=self.now
            ),
            double=double,
            payer=payer,
        )
        self._observe(CHANGE, CHANGE)

    @precondition(
        lambda self: self._on_paid_plan() and self.last.meta["status"] != SubscriptionStatus.CANCELED
    )
    @rule(reason=st.sampled_from(CancelReason.values))
    def cancel(self, reason: str) -> None:
        self._confirm(
            f"cancel ({reason})",
            lambda: services.preview_cancel(
                workspace=self.ws, reason=reason, comment="Moving on", now=self.now
            ),
            lambda confirmation: services.apply_cancel(
                workspace=self.ws,
                actor=self.owner,
                reason=reason,
                comment="Moving on",
                preview=confirmation,
                now=self.now,
            ),
            double=False,
        )
        self._observe(CHANGE, CHANGE)

    @precondition(lambda self: self.last.meta["status"] == SubscriptionStatus.CANCELED)
    @rule()
    def reactivate(self) -> None:
        self._confirm(
            "reactivate",
            lambda: services.preview_reactivate(workspace=self.ws, now=self.now),
            lambda confirmation: services.apply_reactivate(
                workspace=self.ws, actor=self.owner, preview=confirmation, now=self.now
            ),
            double=False,
        )
        self._observe(CHANGE, CHANGE)

    @rule(zone=st.sampled_from(world.ZONES))
    def choose_time_zone(self, zone: str) -> None:
        """The billing time zone, in force from the next period (docs/rules/billing-calendar.md#changing-the-zone)."""
        try:
            with world.clock(self.now):
                world.choose_zone(self.ws, self.owner, zone, now=self.now)
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"zone {zone}: refused ({type(exc).__name__})")
        self.steps.append(f"zone {zone} from the next period")
        self._observe(CHANGE, CHANGE)
        return None

    # --- members and seats -----------------------------------------------------------------------------

    @rule(quantity=st.integers(1, 15))
    def use_credits(self, quantity: int) -> None:
        with world.clock(self.now):
            try:
                credits_consume(
                    workspace=self.ws,
                    actor=self.owner,
                    action="summarize",
                    quantity=quantity,
                    idempotency_key=f"life-{next(self.keys)}",
                    now=self.now,
                )
            except InsufficientCredits:
                return self._skip(f"use {quantity} credits: not enough")
        self.steps.append(f"use {quantity} credits")
        self._observe(CHANGE, CHANGE)
        return None

    # --- time --------------------------------------------------------------------------------------------

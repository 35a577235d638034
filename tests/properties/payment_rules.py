"""What the payer does with cards and charges: save a card that pays, one that declines,
one that asks for 3-D Secure; "Payer maintenant"; authenticate a charge the bank wants
confirmed (docs/rules/payments.md#authentication), or not."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)

from billing.services import collection
from invoices.models import PAYABLE_STATUSES, Invoice
from tests.properties import waiting, world
from tests.properties.clock_rules import ClockRules
from tests.properties.machine import _refused
from tests.properties.model import CHANGE


class PaymentRules(ClockRules):
    @rule()
    def save_declining_card(self) -> None:
        """A test card whose charges are declined, saved on the card page."""
        self._save_card(world.CARD_DECLINED)

    @rule()
    def save_3ds_card(self) -> None:
        """A test card whose every off-session charge asks the payer to authenticate."""
        self._save_card(world.CARD_3DS)

    @rule()
    def save_good_card(self) -> None:
        """A card that pays: every unpaid invoice is charged with it (docs/rules/dunning.md#new-card)."""
        self._save_card(world.CARD_OK)

    @precondition(lambda self: bool(self.last.meta["unpaid"]))
    @rule(pick=st.integers(0, 10))
    def pay_now(self, pick: int) -> None:
        """ "Payer maintenant" on one unpaid invoice (docs/rules/dunning.md#payer-maintenant)."""
        unpaid = list(
            Invoice.objects.filter(workspace=self.ws, status__in=PAYABLE_STATUSES)
            .order_by("id")
            .values_list("pk", "number")
        )
        invoice_id, number = unpaid[pick % len(unpaid)]
        outcome: list[object] = []

        def pay() -> None:
            with world.clock(self.now):
                outcome.append(
                    collection.pay_now(
                        workspace=self.ws, actor=self.owner, invoice_id=invoice_id, now=self.now
                    )
                )

        try:
            self._settle(pay)
        except Exception as exc:
            if not _refused(exc):
                raise
            return self._skip(f"pay {number} now: refused ({type(exc).__name__})")
        answer = (
            "paid"
            if getattr(outcome[0], "succeeded", False)
            else "awaits authentication"
            if getattr(outcome[0], "requires_action", False)
            else "declined"
        )
        self.steps.append(f"pay {number} now: {answer}")
        self._observe(CHANGE, CHANGE, settles=True)
        return None

    @precondition(lambda self: bool(self.last.meta["awaiting"]))
    @rule()
    def authenticate(self) -> None:
        """The payer follows the emailed link of the last charge the bank wants confirmed
        and completes the check: a waiting change is applied as previewed, an invoice in
        dunning is paid (docs/rules/payments.md#authentication)."""
        self._authenticate(-1, success=True)

    @precondition(lambda self: bool(self.last.meta["awaiting"]))
    @rule()
    def fail_authentication(self) -> None:
        """The payer fails the bank's check: a waiting change is dropped, its invoice voided;
        an invoice in dunning stays in dunning."""
        self._authenticate(-1, success=False)

    @precondition(lambda self: bool(self.last.meta["awaiting"]))
    @rule(hours=st.integers(1, 22), pick=st.integers(0, 10), success=st.booleans())
    def authenticate_later(self, hours: int, pick: int, success: bool) -> None:
        """The payer opens one of the links hours later, often another billing day; the
        sweeps run meanwhile, and a change whose window ended has lapsed by then."""
        self._advance_to(self.now + timedelta(hours=hours))
        if not world.awaiting_authentication(self.ws):
            self.steps.append("nothing left to authenticate")
            return
        self._authenticate(pick, success)

    def _authenticate(self, pick: int, success: bool) -> None:
        charges = world.awaiting_authentication(self.ws)
        charge = charges[pick % len(charges)]
        label: list[str] = []
        self._settle(
            lambda: label.append(waiting.authenticate(self.ws, charge, success=success, now=self.now))
        )
        self.steps.append(label[0])
        self._observe(CHANGE, CHANGE, settles=True)

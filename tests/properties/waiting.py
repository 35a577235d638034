"""A customer's change waiting for the payer's 3-D Secure authentication
(docs/rules/lifecycle.md#pay-then-apply), followed from its confirmation to its end.

Confirmed with a card whose off-session charges ask for authentication, a change that
costs money is invoiced and waits: its invoice open, its charge in ``requires_action``,
nothing of the subscription changed. It ends one of two ways, checked at the step that
ends it (an authentication, a sweep, a new card, "Payer maintenant"):

- paid: the invoice is paid the amount previewed, and the subscription is what the
  preview's ``outcome`` said;
- lapsed (window over) or refused (authentication failed, the charge declined): the
  invoice is void, cancelled by a credit note, the charges cancelled, nothing applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from billing.services import Preview
from invoices.models import Charge, ChargeStatus, DocumentType, Invoice, InvoiceStatus
from subscriptions.models import PendingChange, PendingChangeState, Subscription, SubscriptionStatus
from tests.properties import world
from workspaces.models import Workspace

#: docs/rules/lifecycle.md#pay-then-apply: "for at most 23 hours".
WINDOW = timedelta(hours=23)


@dataclass
class Wait:
    """A change the machine confirmed whose payment waits for authentication."""

    invoice_id: int
    what: str
    preview: Preview
    packs: int
    confirmed_at: datetime
    #: The subscription's terms when it was confirmed: plan, price, extra seats.
    terms: tuple[object, ...]
    #: When the period it was priced in ends, if before its 23 hours are over.
    period_end: datetime | None
    #: The paid seats when it was confirmed, and at the end of the last step it still
    #: waited: the renewal it announced holds when they are the same.
    seats: object
    seats_last: object
    #: The index in the workspace's timeline of the confirming step's observation: paid,
    #: the change holds from there (docs/rules/lifecycle.md#pay-then-apply).
    observed_from: int = 0


def terms_of(workspace: Workspace) -> tuple[object, ...]:
    sub = Subscription.objects.get(workspace=workspace)
    return (sub.plan_id, sub.price_id, sub.extra_seats)


def _pending(wait: Wait) -> PendingChange:
    pending = PendingChange.objects.filter(invoice_id=wait.invoice_id).first()
    assert pending is not None, f"{wait.what}: its invoice waits, no pending change keeps the change"
    return pending


def state_of(wait: Wait) -> str:
    return str(_pending(wait).state)


def check_confirmed(
    what: str,
    preview: Preview,
    invoice: Invoice,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> None:
    """Right after a confirmation whose charge asks for authentication: the invoice is
    open, the subscription and its seats unchanged, the account credit the invoice uses
    held by it, and the change kept, waiting, for its window."""
    assert invoice.status == InvoiceStatus.OPEN, f"{what}: awaiting authentication but {invoice.status}"
    assert after["state"] == before["state"], f"{what}: the change was applied before it was paid"
    used = before["balance"] - after["balance"]
    assert used == preview.totals.account_credit_applied_cents, (
        f"{what}: previewed {preview.totals.account_credit_applied_cents} from the balance, used {used}"
    )
    pending = PendingChange.objects.filter(invoice=invoice, state=PendingChangeState.WAITING).first()
    assert pending is not None, f"{what}: awaiting authentication, no change waits for {invoice.number}"
    assert pending.created_at == now, what


def check_waiting(wait: Wait, workspace: Workspace, now: datetime) -> None:
    """Still waiting after a step: within its window (it lapses at the first sweep from
    its end, and the clock ticks then), its invoice open with a charge to authenticate,
    nothing applied."""
    pending = _pending(wait)
    lapses_at = wait.confirmed_at + WINDOW
    if wait.period_end is not None and wait.confirmed_at < wait.period_end < lapses_at:
        lapses_at = wait.period_end
    assert pending.lapses_at == lapses_at, (
        f"{wait.what}: waits until {pending.lapses_at.isoformat()}, not {lapses_at.isoformat()}"
    )
    assert now < lapses_at, f"{wait.what}: still waiting at {now.isoformat()}, its window is over"
    invoice = Invoice.objects.get(pk=wait.invoice_id)
    assert invoice.status == InvoiceStatus.OPEN, f"{wait.what}: waits, its invoice is {invoice.status}"
    assert Charge.objects.filter(invoice=invoice, status=ChargeStatus.REQUIRES_ACTION).exists(), (
        f"{wait.what}: waits, no charge of {invoice.number} to authenticate"
    )
    assert terms_of(workspace) == wait.terms, f"{wait.what}: applied while it waits"


def check_applied(wait: Wait, workspace: Workspace, now: datetime) -> None:
    """Paid: the invoice is paid once, the amount previewed, the change applied now, and
    the subscription is what the preview said it would be."""
    pending = _pending(wait)
    assert pending.settled_at == now, f"{wait.what}: applied at {pending.settled_at}, not at its payment"
    invoice = Invoice.objects.get(pk=wait.invoice_id)
    assert invoice.status == InvoiceStatus.PAID, f"{wait.what}: applied, its invoice is {invoice.status}"
    paid = list(
        Charge.objects.filter(invoice=invoice, status=ChargeStatus.SUCCEEDED).values_list(
            "amount_cents", flat=True
        )
    )
    assert paid == [wait.preview.total_due_now_cents], (
        f"{wait.what}: previewed {wait.preview.total_due_now_cents}, charged {paid} once authenticated"
    )
    sub = Subscription.objects.select_related("plan", "price").get(workspace=workspace)
    outcome = wait.preview.outcome
    failed = Invoice.objects.filter(workspace=workspace, status=InvoiceStatus.FAILED).exists()
    status = SubscriptionStatus.PAST_DUE if failed and outcome["status"] != "canceled" else outcome["status"]
    now_is = {
        "plan": sub.plan.code,
        "interval": sub.price.interval,
        "status": sub.status,
        "extra_seats": sub.extra_seats,
        "period_end": sub.current_period_end,
        "trial_end": sub.trial_end,
        "auto_renew": sub.auto_renew,
    }
    said = {**{key: outcome[key] for key in now_is}, "status": status}
    assert now_is == said, f"{wait.what}: applied once paid as {now_is}, the preview said {said}"


def check_dropped(wait: Wait, workspace: Workspace) -> str:
    """Lapsed or refused: nothing applied, the invoice void and cancelled by a credit note,
    no charge left to authenticate, none paid, within the window. Returns which."""
    pending = _pending(wait)
    assert pending.settled_at is not None, f"{wait.what}: dropped, never settled"
    assert pending.settled_at <= pending.lapses_at, (
        f"{wait.what}: dropped at {pending.settled_at}, after its window ({pending.lapses_at.isoformat()})"
    )
    invoice = Invoice.objects.get(pk=wait.invoice_id)
    assert invoice.status == InvoiceStatus.VOID, f"{wait.what}: dropped, its invoice is {invoice.status}"
    assert Invoice.objects.filter(
        corrects_id=invoice.pk, document_type=DocumentType.CREDIT_NOTE, total_cents=-invoice.total_cents
    ).exists(), f"{wait.what}: {invoice.number} void, no credit note cancels it"
    left = list(
        Charge.objects.filter(invoice=invoice)
        .exclude(status__in=(ChargeStatus.FAILED, ChargeStatus.CANCELED))
        .values_list("attempt", "status")
    )
    assert not left, f"{wait.what}: dropped, yet charges {left} of {invoice.number} go on"
    assert terms_of(workspace) == wait.terms, f"{wait.what}: dropped, yet the subscription changed"
    return "lapsed" if pending.settled_at == pending.lapses_at else "dropped"


def authenticate(workspace: Workspace, charge: Charge, *, success: bool, now: datetime) -> str:
    """The payer completes the bank's check of ``charge``, or fails it, on the invoice's
    confirmation page (docs/rules/payments.md#authentication); returns what happened.
    Completed, its invoice is paid (the change waiting for it is checked applied as
    previewed by :func:`check_applied`). Failed, a waiting change is dropped, its invoice
    voided and the account credit it held given back, nothing else moved; an invoice in
    dunning stays failed, its retries as scheduled."""
    invoice = charge.invoice
    waits = PendingChange.objects.filter(invoice=invoice, state=PendingChangeState.WAITING).exists()
    label = f"{invoice.number} attempt {charge.attempt} ({'a change waits' if waits else invoice.status})"
    before = world.money_state(workspace)
    world.authenticate(charge, success=success, now=now)
    after = world.money_state(workspace)
    invoice.refresh_from_db()
    if success:
        assert invoice.status == InvoiceStatus.PAID, f"authenticated {label}, yet {invoice.status}"
        return f"authenticate {label}: paid"
    assert after["state"] == before["state"], f"authentication of {label} failed, yet the subscription moved"
    if waits:
        assert invoice.status == InvoiceStatus.VOID, f"authentication of {label} failed, yet {invoice.status}"
        given_back = after["balance"] - before["balance"]
        assert given_back == invoice.account_credit_applied_cents, (
            f"authentication of {label} failed: {invoice.account_credit_applied_cents} held, {given_back} given back"
        )
    else:
        assert invoice.status == InvoiceStatus.FAILED, (
            f"authentication of {label} failed, yet {invoice.status}"
        )
        assert after["balance"] == before["balance"], (
            f"authentication of {label} failed, yet the balance moved"
        )
    return f"authenticate {label}: failed"

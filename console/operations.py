"""Operators' actions on a customer's account (docs/rules/operators.md#same-services).

Each action checks the operator's group (:mod:`console.permissions`), requires a reason,
calls the same service the customer's own action uses and writes an audit entry with the
operator as actor. Actions on a customer's behalf that the services reserve to a
workspace manager (change plan, cancel, reactivate, retry a charge) act as the
workspace's owner, inside :func:`audit.context.operator_acting` so the trail names the
operator. Each action has a preview: the money or credits it moves, shown before the
operator confirms.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.context import operator_acting
from audit.models import Kind
from audit.services import record
from billing.services import collection, lifecycle, settlement
from billing.services.core import ApplyResult, PaymentOutcome, Preview
from billing.services.refunds import refund_payment
from console import errors
from console.permissions import Power, require, require_credit_adjustment
from credits import grants
from credits.models import LedgerEntry
from invoices import selectors as invoice_selectors
from invoices import services as invoice_services
from invoices.errors import InvoiceNotRefundable
from invoices.models import AccountBalanceEntry, Charge, ChargeStatus, Invoice, InvoiceStatus
from workspaces.models import Membership, Role, User, Workspace


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.ReasonRequired()
    return reason


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def owner_of(workspace: Workspace) -> Membership:
    """The member on whose behalf an operator acts."""
    owner = (
        Membership.objects.select_related("user", "workspace")
        .filter(workspace=workspace, role=Role.OWNER)
        .first()
    )
    if owner is None:
        raise errors.NoOwner()
    return owner


# --- Credits ----------------------------------------------------------------------------------


def adjust_credits(
    *, operator: User, workspace: Workspace, credits: int, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """Grant (positive) or take back (negative) credits (docs/rules/credits.md#ledger);
    support operators up to their limit, finance beyond."""
    reason = _reason(reason)
    require_credit_adjustment(operator, credits)
    now = _now(now)
    with transaction.atomic(), operator_acting(operator, reason):
        entry = grants.credits_adjust(
            workspace=workspace, actor=operator, credits=credits, reason=reason, now=now
        )
        record(
            kind=Kind.CREDITS_ADJUSTED, workspace=workspace, object_type="credit_balance",
            object_id=workspace.pk, object_repr=workspace.name,
            before={"balance": entry.balance_after - entry.amount},
            after={"balance": entry.balance_after, "adjustment": entry.amount}, now=now,
        )  # fmt: skip
    return entry


# --- Invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundPreview:
    invoice: Invoice
    paid_cents: int
    refunded_cents: int

    @property
    def refundable_cents(self) -> int:
        return self.paid_cents - self.refunded_cents


def preview_refund(*, invoice: Invoice) -> RefundPreview:
    """What the invoice's card payment was and what is left to give back."""
    charge = (
        Charge.objects.filter(invoice=invoice, status=ChargeStatus.SUCCEEDED).exclude(reference="").first()
    )
    if charge is None:
        raise InvoiceNotRefundable()
    return RefundPreview(
        invoice=invoice, paid_cents=charge.amount_cents, refunded_cents=charge.refunded_cents
    )


def refund(
    *, operator: User, invoice: Invoice, amount_cents: int, reason: str, now: datetime | None = None
) -> Invoice:
    """Give ``amount_cents`` back to the card through the gateway; the refund's credit
    note is issued by :func:`billing.services.refunds.refund_payment`. Returns it."""
    require(operator, Power.REFUND)
    reason = _reason(reason)
    before = preview_refund(invoice=invoice)
    now = _now(now)
    with operator_acting(operator, reason):
        credit_note = refund_payment(invoice_id=invoice.pk, amount_cents=amount_cents, now=now)
        record(
            kind=Kind.INVOICE_REFUNDED, workspace=invoice.workspace, object_type="invoice",
            object_id=invoice.pk, object_repr=invoice.number or "",
            before={"refunded_cents": before.refunded_cents, "currency": invoice.currency},
            after={"refunded_cents": before.refunded_cents + amount_cents, "amount_cents": amount_cents,
                   "credit_note": credit_note.number, "currency": invoice.currency},
            now=now,
        )  # fmt: skip
    return credit_note


def record_payment(
    *, operator: User, invoice: Invoice, reference: str, reason: str, now: datetime | None = None
) -> Invoice:
    """A payment received outside the gateway (a bank transfer, a cheque), with its
    reference: the invoice is paid and settled as a card payment would be."""
    require(operator, Power.RECORD_PAYMENT)
    reason = _reason(reason)
    reference = (reference or "").strip()
    if not reference:
        raise errors.ReferenceRequired()
    now = _now(now)
    with transaction.atomic(), operator_acting(operator, reason):
        before = invoice.status
        paid = settlement.invoice_pay(invoice=invoice, now=now, payment_reference=reference[:200])
        record(
            kind=Kind.INVOICE_PAID_OUT_OF_BAND, workspace=invoice.workspace, object_type="invoice",
            object_id=invoice.pk, object_repr=invoice.number or "",
            before={"status": before},
            after={"status": paid.status, "reference": reference, "amount_cents": paid.amount_due_cents,
                   "currency": paid.currency},
            now=now,
        )  # fmt: skip
    return paid


def resend_receipt(*, operator: User, invoice: Invoice, reason: str, now: datetime | None = None) -> bool:
    """Email a paid invoice's receipt again, through the service that sent it the first
    time (:func:`invoices.services.invoice_receipt_send`, which sends it once per paid
    invoice: its claim is released first). Returns whether an email went out."""
    require(operator, Power.RESEND_RECEIPT)
    reason = _reason(reason)
    if invoice.status != InvoiceStatus.PAID:
        raise errors.ReceiptUnavailable()
    now = _now(now)
    with operator_acting(operator, reason):
        previous = Invoice.objects.filter(pk=invoice.pk).values_list("receipt_sent_at", flat=True).get()
        Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.PAID).update(receipt_sent_at=None)
        sent = invoice_services.invoice_receipt_send(invoice=invoice, now=now)
        record(
            kind=Kind.RECEIPT_RESENT, workspace=invoice.workspace, object_type="invoice",
            object_id=invoice.pk, object_repr=invoice.number or "",
            before={"receipt_sent_at": previous}, after={"receipt_sent_at": now, "sent": sent}, now=now,
        )  # fmt: skip
    return sent


def void_invoice(*, operator: User, invoice: Invoice, reason: str, now: datetime | None = None) -> Invoice:
    require(operator, Power.VOID_INVOICE)
    reason = _reason(reason)
    now = _now(now)
    with transaction.atomic(), operator_acting(operator, reason):
        before = invoice.status
        voided = invoice_services.invoice_void(invoice=invoice, now=now)
        record(
            kind=Kind.INVOICE_VOIDED, workspace=invoice.workspace, object_type="invoice",
            object_id=invoice.pk, object_repr=invoice.number or "",
            before={"status": before}, after={"status": voided.status}, now=now,
        )  # fmt: skip
    return voided


def retry_charge(
    *, operator: User, invoice: Invoice, reason: str, now: datetime | None = None
) -> PaymentOutcome:
    """Charge an unpaid invoice now with the card on file, as its next attempt: the
    customer's "Payer maintenant" (docs/rules/dunning.md#payer-maintenant)."""
    require(operator, Power.RETRY_CHARGE)
    reason = _reason(reason)
    owner = owner_of(invoice.workspace)
    now = _now(now)
    with operator_acting(operator, reason):
        outcome = collection.pay_now(workspace=invoice.workspace, actor=owner, invoice_id=invoice.pk, now=now)
        record(
            kind=Kind.CHARGE_RETRIED, workspace=invoice.workspace, object_type="invoice",
            object_id=invoice.pk, object_repr=invoice.number or "",
            after={"paid": outcome.succeeded, "amount_cents": invoice.amount_due_cents,
                   "currency": invoice.currency, "answer": str(outcome.message or "")},
            now=now,
        )  # fmt: skip
    return outcome


# --- Trial ------------------------------------------------------------------------------------


def preview_extend_trial(*, workspace: Workspace, days: int, now: datetime | None = None) -> Preview:
    """The trial's new end and the first charge it moves (nothing is charged now)."""
    return lifecycle.preview_extend_trial(workspace=workspace, days=days, now=_now(now))


def extend_trial(
    *,
    operator: User,
    workspace: Workspace,
    days: int,
    confirmation: str,
    reason: str,
    now: datetime | None = None,
) -> ApplyResult:
    """Make a running trial longer by ``days`` (docs/rules/lifecycle.md#extending-a-trial),
    through the lifecycle service, which writes the audit entry with the operator's reason."""
    require(operator, Power.EXTEND_TRIAL)
    reason = _reason(reason)
    owner = owner_of(workspace)
    with operator_acting(operator, reason):
        return lifecycle.apply_extend_trial(
            workspace=workspace, actor=owner, days=days, preview=confirmation, now=_now(now)
        )


# --- Account balance --------------------------------------------------------------------------


def adjust_balance(
    *, operator: User, workspace: Workspace, amount_cents: int, reason: str, now: datetime | None = None
) -> AccountBalanceEntry:
    """Credit (positive) money to the account balance, which the next invoices consume, or
    take it back (negative), never below zero (docs/rules/invoices.md#account-balance)."""
    require(operator, Power.ADJUST_BALANCE)
    reason = _reason(reason)
    if type(amount_cents) is not int or amount_cents == 0:
        raise errors.AmountInvalid()
    now = _now(now)
    adjust = (
        invoice_services.account_balance_credit
        if amount_cents > 0
        else invoice_services.account_balance_debit
    )
    with transaction.atomic(), operator_acting(operator, reason):
        before = invoice_selectors.account_balance_cents(workspace)
        entry = adjust(
            workspace=workspace, amount_cents=abs(amount_cents), currency=workspace.currency,
            reason=reason[:200], source=f"operator:{uuid.uuid4().hex}", now=now,
        )  # fmt: skip
        record(
            kind=Kind.BALANCE_ADJUSTED, workspace=workspace, object_type="account_balance",
            object_id=workspace.pk, object_repr=workspace.name,
            before={"balance_cents": before, "currency": workspace.currency},
            after={"balance_cents": entry.balance_after_cents, "adjustment_cents": entry.amount_cents,
                   "currency": workspace.currency},
            now=now,
        )  # fmt: skip
    return entry


# --- Subscription, on the customer's behalf ---------------------------------------------------

SUBSCRIPTION_ACTIONS = ("cancel", "reactivate", "expire", "change_plan", "customize")


def preview_subscription(
    *,
    workspace: Workspace,
    action: str,
    reason: str,
    price_id: int | None = None,
    customization: tuple[int, dict[str, int]] | None = None,
    now: datetime | None = None,
) -> Preview:
    """The cost summary the customer would see for the same change (a cancellation's
    reason is "Other", with the operator's reason as its comment)."""
    now = _now(now)
    if action == "cancel":
        return lifecycle.preview_cancel(workspace=workspace, reason="other", comment=_reason(reason), now=now)
    if action == "reactivate":
        return lifecycle.preview_reactivate(workspace=workspace, now=now)
    if action == "expire":
        return lifecycle.preview_expire(workspace=workspace, reason="operator", now=now)
    if action == "change_plan" and price_id is not None:
        return lifecycle.preview_change_plan(workspace=workspace, price_id=price_id, now=now)
    if action == "customize" and customization is not None:
        extra_seats, addons = customization
        return lifecycle.preview_customize(
            workspace=workspace, extra_seats=extra_seats, addons=addons, now=now
        )
    raise errors.AmountInvalid()


def apply_subscription(
    *,
    operator: User,
    workspace: Workspace,
    action: str,
    confirmation: str,
    reason: str,
    price_id: int | None = None,
    customization: tuple[int, dict[str, int]] | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """Apply the previewed change through the lifecycle service, as the customer's owner;
    the lifecycle writes the audit entry, naming the operator and their reason."""
    require(operator, Power.CHANGE_SUBSCRIPTION)
    reason = _reason(reason)
    now = _now(now)
    with operator_acting(operator, reason):
        if action == "expire":
            return lifecycle.apply_expire(
                workspace=workspace, preview=confirmation, reason="operator", now=now
            )
        owner = owner_of(workspace)
        if action == "cancel":
            return lifecycle.apply_cancel(
                workspace=workspace, actor=owner, reason="other", comment=reason,
                preview=confirmation, now=now,
            )  # fmt: skip
        if action == "reactivate":
            return lifecycle.apply_reactivate(workspace=workspace, actor=owner, preview=confirmation, now=now)
        if action == "change_plan" and price_id is not None:
            return lifecycle.apply_change_plan(
                workspace=workspace, actor=owner, price_id=price_id, preview=confirmation, now=now
            )
        if action == "customize" and customization is not None:
            extra_seats, addons = customization
            return lifecycle.apply_customize(
                workspace=workspace, actor=owner, extra_seats=extra_seats, addons=addons,
                preview=confirmation, now=now,
            )  # fmt: skip
    raise errors.AmountInvalid()

"""Charging invoices, dunning, the local card page's writes and the invoice hooks.

Charges run outside database transactions (a gateway call must never hold row locks
nor be rolled back after the money moved); each is keyed ``invoice:<id>:attempt:<n>``
so a replay returns the first result. A failed charge puts the subscription in dunning
(SPEC.md "Renewal"): ``past_due``, retries on days 1, 3, 5 and 7 after the first
failure, the owner and admins emailed each time, expiry to Free after the last one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import notifications
from billing.services.core import PaymentOutcome, check_manager, record_event
from domain.money import BASIS_POINTS_PER_UNIT, round_half_up
from gateways.base import CardDeclined, ChargeResult, get_gateway
from gateways.local.gateway import TEST_CARDS, card_brand
from invoices.models import Invoice, InvoiceStatus, LineKind
from invoices.services import invoice_mark_paid, invoice_mark_payment_failed
from subscriptions import errors
from subscriptions.models import EventKind, PaymentMethod, Subscription, SubscriptionEvent, SubscriptionStatus
from workspaces.formatting import format_number
from workspaces.models import Membership, Workspace

#: Retries after the first failed charge, in days since that failure (SPEC.md "Renewal").
DUNNING_RETRY_DAYS = (1, 3, 5, 7)
#: A claimed retry is not picked again for this long (a crashed worker's claim expires).
DUNNING_CLAIM_LEASE = timedelta(hours=1)

_PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.FAILED)


def charge_key(invoice_id: int, attempt: int) -> str:
    return f"invoice:{invoice_id}:attempt:{attempt}"


def charge_invoice(*, invoice_id: int, attempt: int, now: datetime) -> PaymentOutcome:
    """Charge what an open or failed invoice still asks for, then record the outcome.

    Call it outside any transaction. A paid invoice is not charged again. A gateway
    :class:`~gateways.base.PaymentError` (outcome unknown) propagates, so the
    task can retry with the same attempt number, hence the same idempotency key.
    """
    invoice = Invoice.objects.select_related("workspace").get(pk=invoice_id)
    if invoice.status == InvoiceStatus.PAID:
        return PaymentOutcome(
            succeeded=True, message=_("The invoice is paid."), reference=invoice.payment_reference
        )
    if invoice.status not in _PAYABLE:
        return PaymentOutcome(succeeded=False, message=_("This invoice cannot be paid any more."))
    if invoice.amount_due_cents == 0:
        invoice_mark_paid(invoice=invoice, now=now)
        return PaymentOutcome(succeeded=True, message=_("The invoice is paid."))
    try:
        result = get_gateway().charge(
            invoice.workspace,
            invoice.amount_due_cents,
            invoice.currency,
            charge_key(invoice.pk, attempt),
            f"{invoice.number} ({invoice.workspace.name})",
        )
    except CardDeclined as exc:
        result = ChargeResult(succeeded=False, reference="", failure_message=str(exc.message))
    if not result.succeeded:
        return record_payment_failure(
            invoice=invoice, attempt=attempt, now=now, reason=result.failure_message
        )
    with transaction.atomic():
        invoice_mark_paid(invoice=invoice, now=now, payment_reference=result.reference)
        subscription = Subscription.objects.filter(workspace_id=invoice.workspace_id).first()
        if subscription is not None:
            record_event(
                subscription,
                EventKind.PAYMENT_SUCCEEDED,
                now=now,
                data={"invoice": invoice.pk, "attempt": attempt, "amount_cents": invoice.amount_due_cents},
            )
    return PaymentOutcome(succeeded=True, message=_("Payment accepted."), reference=result.reference)


def record_payment_failure(*, invoice: Invoice, attempt: int, now: datetime, reason: str) -> PaymentOutcome:
    """A declined charge: the invoice fails, the subscription enters (or stays in) dunning,
    the next retry is scheduled and the billing contacts are told; after the last retry
    the subscription expires to Free."""
    exhausted = False
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan")
            .filter(workspace_id=invoice.workspace_id)
            .first()
        )
        current = Invoice.objects.get(pk=invoice.pk)
        if current.status not in _PAYABLE:
            return PaymentOutcome(succeeded=current.status == InvoiceStatus.PAID, message=reason)
        next_at = None
        if subscription is not None and not subscription.plan.is_free:
            if subscription.dunning_invoice_id != invoice.pk:
                subscription.dunning_invoice = invoice
                subscription.past_due_since = now
                subscription.dunning_attempts = 0
                if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
                    subscription.status = SubscriptionStatus.PAST_DUE
            elif attempt - 1 <= subscription.dunning_attempts:
                # This attempt was recorded already (a task delivered twice): nothing more.
                return PaymentOutcome(succeeded=False, message=reason)
            else:
                subscription.dunning_attempts = attempt - 1
            retries_done = subscription.dunning_attempts
            if retries_done >= len(DUNNING_RETRY_DAYS):
                exhausted = True
            else:
                assert subscription.past_due_since is not None
                next_at = subscription.past_due_since + timedelta(days=DUNNING_RETRY_DAYS[retries_done])
            subscription.next_dunning_at = next_at
            subscription.save(
                update_fields=[
                    "dunning_invoice",
                    "past_due_since",
                    "dunning_attempts",
                    "status",
                    "next_dunning_at",
                    "updated_at",
                ]
            )
            record_event(
                subscription,
                EventKind.PAYMENT_FAILED,
                now=now,
                data={
                    "invoice": invoice.pk,
                    "attempt": attempt,
                    "next_attempt_at": next_at,
                    "reason": reason,
                },
            )
        invoice = invoice_mark_payment_failed(
            invoice=invoice, now=now, next_attempt_at=next_at, reason=reason
        )
    if exhausted:
        from billing.services.lifecycle import expire_after_dunning

        expire_after_dunning(workspace=invoice.workspace, now=now)
    else:
        notifications.send_payment_failed(
            workspace=invoice.workspace, invoice=invoice, next_attempt_at=next_at, reason=reason
        )
    return PaymentOutcome(succeeded=False, message=reason)


def dunning_claim(*, subscription_id: int, now: datetime) -> tuple[int, int] | None:
    """Claim a due retry: ``(invoice id, attempt number)``, or ``None`` if it is not due
    (any more). The claim pushes the next retry time out by a lease, so a second sweep
    does not charge again while the first is still at work."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk=subscription_id, next_dunning_at__lte=now)
            .first()
        )
        if subscription is None:
            return None
        invoice = (
            Invoice.objects.filter(pk=subscription.dunning_invoice_id).only("status").first()
            if subscription.dunning_invoice_id
            else None
        )
        if invoice is None or invoice.status not in _PAYABLE:
            _clear_dunning(subscription, now)
            return None
        subscription.next_dunning_at = now + DUNNING_CLAIM_LEASE
        subscription.save(update_fields=["next_dunning_at", "updated_at"])
        return invoice.pk, subscription.dunning_attempts + 2


def _clear_dunning(subscription: Subscription, now: datetime) -> None:
    if subscription.status == SubscriptionStatus.PAST_DUE:
        in_trial = subscription.trial_end is not None and now < subscription.trial_end
        subscription.status = SubscriptionStatus.TRIALING if in_trial else SubscriptionStatus.ACTIVE
    subscription.dunning_invoice = None
    subscription.dunning_attempts = 0
    subscription.next_dunning_at = None
    subscription.past_due_since = None
    subscription.save(
        update_fields=[
            "status",
            "dunning_invoice",
            "dunning_attempts",
            "next_dunning_at",
            "past_due_since",
            "updated_at",
        ]
    )


# --- Hooks called by invoices (CONTRACTS.md) ----------------------------------------------


def _credit_lines(invoice: Invoice) -> tuple[int, int]:
    """Credits bought on the invoice and what they cost, VAT included."""
    lines = list(invoice.lines.filter(kind=LineKind.EXTRA_CREDITS))
    credits = sum(int(line.metadata.get("credits", 0)) for line in lines)
    amount = sum(line.amount_cents for line in lines)
    if amount > 0 and not invoice.reverse_charge:
        amount += round_half_up(amount * invoice.vat_rate_bp, BASIS_POINTS_PER_UNIT)
    return credits, amount


def purchase_source(invoice: Invoice) -> str:
    return f"invoice:{invoice.pk}"


def on_invoice_paid(*, invoice: Invoice, now: datetime) -> None:
    """Called by invoices once an invoice is paid (idempotent).

    Purchased extra credits become a purchased grant only now (seed 001: credits follow
    payment), and a subscription in dunning on this invoice is active again.
    """
    credits, amount = _credit_lines(invoice)
    if credits:
        from credits.services import credits_grant_purchased

        credits_grant_purchased(
            workspace=invoice.workspace,
            credits=credits,
            amount_paid_cents=amount,
            currency=invoice.currency,
            source=purchase_source(invoice),
            now=now,
        )
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .filter(workspace_id=invoice.workspace_id, dunning_invoice_id=invoice.pk)
        .first()
    )
    if subscription is not None:
        _clear_dunning(subscription, now)
        record_event(
            subscription,
            EventKind.PAYMENT_SUCCEEDED,
            now=now,
            data={"invoice": invoice.pk, "recovered": True},
        )


def on_invoice_refunded(*, invoice: Invoice, now: datetime) -> str:
    """Called by invoices once an invoice is refunded (idempotent): the purchased credits
    it paid for are taken back as far as they are still unused, and the returned message
    says how many."""
    credits, _amount = _credit_lines(invoice)
    if not credits:
        return ""
    earlier = SubscriptionEvent.objects.filter(
        workspace_id=invoice.workspace_id, kind=EventKind.CREDITS_REFUNDED, data__invoice=invoice.pk
    ).first()
    if earlier is not None:
        return refund_message(taken=int(earlier.data["taken_back"]), purchased=credits)
    from credits.services import credits_revoke_purchased

    taken = credits_revoke_purchased(workspace=invoice.workspace, source=purchase_source(invoice), now=now)
    subscription = Subscription.objects.filter(workspace_id=invoice.workspace_id).first()
    if subscription is not None:
        record_event(
            subscription,
            EventKind.CREDITS_REFUNDED,
            now=now,
            data={"invoice": invoice.pk, "credits": credits, "taken_back": taken},
        )
    return refund_message(taken=taken, purchased=credits)


def refund_message(*, taken: int, purchased: int) -> str:
    from django.utils.translation import get_language

    locale = get_language() or "fr"
    if taken >= purchased:
        return ngettext(
            "The %(count)s purchased credit was unused and has been taken back.",
            "The %(count)s purchased credits were unused and have been taken back.",
            purchased,
        ) % {"count": format_number(purchased, locale)}
    if taken == 0:
        return _("The %(count)s purchased credits have all been used: none were taken back.") % {
            "count": format_number(purchased, locale)
        }
    return _(
        "%(taken)s of the %(count)s purchased credits were still unused and have been taken back; "
        "the others had been used."
    ) % {"taken": format_number(taken, locale), "count": format_number(purchased, locale)}


# --- The local secure payment page -------------------------------------------------------


@transaction.atomic
def payment_method_save(
    *, workspace: Workspace, actor: Membership, number: str, exp_month: int, exp_year: int, now: datetime
) -> PaymentMethod:
    """Save a test card as the workspace's default payment method (local gateway).

    Only its brand, last 4 digits, expiry and outcome category are stored, never the
    number. The form has already checked Luhn, expiry and CVC; this refuses anything
    but a known test card.
    """
    check_manager(actor, workspace)
    digits = "".join(ch for ch in number if ch.isdigit())
    outcome = TEST_CARDS.get(digits)
    if outcome is None:
        raise errors.BillingError(_("This is not a test card accepted by the local payment page."))
    PaymentMethod.objects.select_for_update().filter(workspace=workspace, is_default=True).update(
        is_default=False
    )
    method = PaymentMethod(
        workspace=workspace,
        brand=card_brand(digits),
        last4=digits[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        is_default=True,
        card_token=outcome,
        created_at=now,
    )
    method.full_clean()
    method.save()
    subscription = Subscription.objects.filter(workspace=workspace).first()
    if subscription is not None:
        record_event(
            subscription,
            EventKind.PAYMENT_METHOD_UPDATED,
            now=now,
            actor=actor,
            data={"brand": method.brand, "last4": method.last4},
        )
    return method

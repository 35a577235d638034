"""``charge.dispute.created`` and ``charge.dispute.closed``: the dispute is read again from
Stripe, and what it means is done once (docs/rules/payments.md#disputes)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.services.disputes import dispute_close, dispute_hold
from gateways.stripe.client import call, client, object_id
from gateways.stripe.models import StripeDispute
from invoices.models import Charge

CLOSED = {"won", "lost"}


def _charge_of(dispute: Any) -> Charge | None:
    intent = object_id(dispute.get("payment_intent"))
    if not intent:
        charge_id = object_id(dispute.get("charge"))
        if not charge_id:
            return None
        intent = object_id(call(lambda: client().v1.charges.retrieve(charge_id)).payment_intent)
    return Charge.objects.filter(reference=intent).exclude(reference="").first()


def _current(event_object: dict[str, Any]) -> Any:
    dispute_id = str(event_object.get("id", ""))
    return call(lambda: client().v1.disputes.retrieve(dispute_id))


def dispute_opened(event_object: dict[str, Any]) -> str | None:
    dispute = _current(event_object)
    charge = _charge_of(dispute)
    if charge is None:
        return "not one of our charges"
    with transaction.atomic():
        row, created = StripeDispute.objects.select_for_update().get_or_create(
            dispute_id=dispute.id, defaults={"charge": charge, "status": dispute.status}
        )
        if created:
            row.credits_held = dispute_hold(charge=charge, dispute_id=dispute.id, now=timezone.now())
            row.save(update_fields=["credits_held"])
    if dispute.status in CLOSED:
        return dispute_closed(event_object)
    return None


def dispute_closed(event_object: dict[str, Any]) -> str | None:
    dispute = _current(event_object)
    if dispute.status not in CLOSED:
        return "the dispute is still open"
    charge = _charge_of(dispute)
    if charge is None:
        return "not one of our charges"
    if not StripeDispute.objects.filter(dispute_id=dispute.id).exists():
        # Closed before its opening was seen: the opening holds first, in order.
        dispute_opened({"id": dispute.id})
    with transaction.atomic():
        row = StripeDispute.objects.select_for_update().get(dispute_id=dispute.id)
        if row.closed_at is not None:
            return None
        now = timezone.now()
        dispute_close(
            charge=charge,
            dispute_id=dispute.id,
            won=dispute.status == "won",
            credits_held=row.credits_held,
            now=now,
        )
        row.status, row.closed_at = dispute.status, now
        row.save(update_fields=["status", "closed_at"])
    return None

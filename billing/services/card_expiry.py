"""Card-expiry notices (docs/rules/payments.md#card-expiry-notices): from the expiry stored
when the card was saved (Stripe sends no event for a saved card about to expire), the
billing contacts are emailed once per card, 30 days before the end of its expiry month."""

from __future__ import annotations

from datetime import datetime

from billing import notifications
from domain.calendar import day_of
from domain.cards import expires_soon
from subscriptions.models import PaymentMethod


def send_card_expiry_notices(*, now: datetime) -> int:
    """Email each default card entering its notice window, once (claimed before sending,
    so two sweeps never send twice). Returns how many went out."""
    sent = 0
    due = (
        PaymentMethod.objects.filter(is_default=True, expiry_notice_sent_at__isnull=True)
        .filter(exp_year__lte=now.year + 1)
        .select_related("workspace")
        .order_by("id")
    )
    for method in due:
        today = day_of(now, method.workspace.billing_zone)
        if not expires_soon(method.exp_month, method.exp_year, today):
            continue
        claimed = PaymentMethod.objects.filter(pk=method.pk, expiry_notice_sent_at__isnull=True).update(
            expiry_notice_sent_at=now
        )
        if claimed:
            notifications.send_card_expiring(workspace=method.workspace, method=method)
            sent += 1
    return sent

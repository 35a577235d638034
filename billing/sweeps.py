"""The billing sweep (docs/architecture.md#scheduled-work), run every 5 minutes by Celery beat and
by ``manage.py billing_tick``.

Each step selects the due ids with one query, then processes them; each is idempotent
(running twice does nothing more: a processed row is no longer due) and safe late (a
subscription several periods behind is renewed period after period, and the charge of
each renewal follows in its own task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import QuerySet

from billing import notifications
from billing.services import dunning, lifecycle, renewals
from billing.services.billing_time_zone import billing_time_zone_changes_apply
from billing.services.card_expiry import send_card_expiry_notices
from billing.services.collection import CHARGE_TASK, end_spent_dunning, lapse_waiting_changes
from subscriptions import errors
from subscriptions.models import Subscription, SubscriptionStatus
from workspaces.jobs import enqueue

logger = logging.getLogger(__name__)

#: Trial reminders go out this long before the trial ends (once).
TRIAL_REMINDER_BEFORE = timedelta(days=3)
#: A subscription far behind is renewed at most this many periods per run.
MAX_RENEWAL_ROUNDS = 60


def _queue_charge(invoice_id: int, attempt: int, now: datetime, *, inline: bool = False) -> None:
    # billing_tick charges inline: synchronously, as the worker would.
    enqueue(CHARGE_TASK, invoice_id, attempt, now.isoformat(), inline=inline)


def _each_due(
    due: QuerySet[Subscription],
    apply: Callable[..., object],
    skip: tuple[type[Exception], ...],
    *,
    what: str,
    now: datetime,
) -> int:
    """Apply a lifecycle operation to each due workspace; one that is no longer due is
    skipped, one that cannot be processed now is logged and left for the next run."""
    done = 0
    for workspace_id in due.order_by("id").values_list("workspace_id", flat=True):
        subscription = Subscription.objects.select_related("workspace").get(workspace_id=workspace_id)
        try:
            apply(workspace=subscription.workspace, now=now)
        except skip:
            continue
        except errors.BillingError as exc:
            logger.warning("%s of subscription %s deferred: %s", what, subscription.pk, exc)
            continue
        done += 1
    return done


def expire_canceled(*, now: datetime) -> int:
    """Cancelled subscriptions whose period has ended → expired to Free."""
    due = Subscription.objects.filter(status=SubscriptionStatus.CANCELED, current_period_end__lte=now)
    return _each_due(due, lifecycle.expire_if_due, (errors.NotDue,), what="expiry", now=now)


def end_trials(*, now: datetime) -> int:
    """Trials that have ended: charged and active with a card on file, else expired."""
    due = Subscription.objects.filter(status=SubscriptionStatus.TRIALING, trial_end__lte=now)
    return _each_due(
        due, lifecycle.apply_end_trial, (errors.NotDue, errors.NotTrialing), what="trial end", now=now
    )


def send_trial_reminders(*, now: datetime) -> int:
    """Trials ending within 3 days get one reminder, claimed before it is sent."""
    due = list(
        Subscription.objects.filter(
            status=SubscriptionStatus.TRIALING,
            trial_end__gt=now,
            trial_end__lte=now + TRIAL_REMINDER_BEFORE,
            trial_reminder_sent_at__isnull=True,
        ).values_list("id", flat=True)
    )
    sent = 0
    for subscription_id in due:
        claimed = Subscription.objects.filter(pk=subscription_id, trial_reminder_sent_at__isnull=True).update(
            trial_reminder_sent_at=now
        )
        if not claimed:
            continue
        subscription = Subscription.objects.select_related("workspace", "plan").get(pk=subscription_id)
        notifications.send_trial_ending(subscription=subscription)
        sent += 1
    return sent


def renew(*, now: datetime, charge_inline: bool = False) -> tuple[int, int]:
    """Renew every due subscription (set-based), then queue one charge task per invoice."""
    renewed = charged = 0
    for _round in range(MAX_RENEWAL_ROUNDS):
        run = renewals.renew_due_subscriptions(now=now)
        renewed += run.renewed
        # Committed by now (each batch is its own transaction): every charge runs in its
        # own task, outside any transaction.
        for invoice_id in run.to_charge:
            _queue_charge(invoice_id, 1, now, inline=charge_inline)
        charged += len(run.to_charge)
        if run.renewed == 0:
            break
    return renewed, charged


def retry_dunning(*, now: datetime, charge_inline: bool = False) -> int:
    """Each failed invoice's retry due now (days 1, 3, 5 and 7 after its own first
    failure; docs/rules/dunning.md#retry-schedule)."""
    retried = 0
    for invoice_id in dunning.due_retries(now):
        attempt = dunning.claim_attempt(invoice_id=invoice_id, now=now)
        if attempt is None:
            continue
        _queue_charge(invoice_id, attempt, now, inline=charge_inline)
        retried += 1
    return retried


def run_billing_sweeps(*, now: datetime, charge_inline: bool = False) -> dict[str, int]:
    """Expirations, trial ends, renewals, dunning retries and trial reminders, as of ``now``.

    Charges go to per-invoice Celery tasks; ``charge_inline`` runs those tasks here
    instead (``billing_tick``: the whole sweep, synchronously).
    """
    # First: a billing time zone chosen for the next period is in force before anything
    # that period starts is computed (docs/rules/billing-calendar.md#changing-the-zone).
    billing_time_zone_changes_apply(now=now)
    # Changes whose payment waited too long for its authentication lapse before the
    # period they were priced in ends (docs/rules/lifecycle.md#pay-then-apply).
    lapsed = lapse_waiting_changes(now=now)
    expired = expire_canceled(now=now)
    trials_ended = end_trials(now=now)
    renewed, charges_queued = renew(now=now, charge_inline=charge_inline)
    retries = retry_dunning(now=now, charge_inline=charge_inline)
    # A last failure whose consequence is not carried out yet (its answer came by
    # webhook, or a worker stopped): docs/rules/dunning.md#last-failure.
    dunning_ended = end_spent_dunning(now=now)
    reminders = send_trial_reminders(now=now)
    card_notices = send_card_expiry_notices(now=now)
    summary = {
        "changes_lapsed": lapsed,
        "expired": expired,
        "trials_ended": trials_ended,
        "renewed": renewed,
        "charges_queued": charges_queued,
        "dunning_retries": retries,
        "dunning_ended": dunning_ended,
        "trial_reminders": reminders,
        "card_expiry_notices": card_notices,
    }
    logger.info("billing sweeps at %s: %s", now.isoformat(), summary)
    return summary

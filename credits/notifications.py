"""80 % and 100 % allowance notices (docs/rules/credits.md#alerts): the billing contacts
are emailed once per credit period.

The decision is made from what the charge returned (no extra query unless a threshold
is crossed). Each notice is recorded (unique per workspace, period and threshold) and
the balance row remembers the highest one of the period; the email is queued in the
same transaction, as an outbox row (docs/architecture.md#outbox): it goes out once the
charge is committed, whatever the broker's state, once even when two consumptions cross
the line at the same moment or a task is retried, and a workspace's notices go out in the
order they were recorded (80 % before 100 %).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from credits.models import CreditNotice
from outbox import services as outbox
from workspaces.selectors import billing_contacts

THRESHOLDS = (80, 100)
#: The Celery task that emails a recorded notice (:mod:`credits.tasks`).
SEND_CREDIT_NOTICE_TASK = "credits.tasks.send_credit_notice"


def crossed_thresholds(*, allowance_used: int, allowance_total: int, notified_percent: int) -> list[int]:
    """Thresholds reached by this usage and not yet notified in the period."""
    if allowance_total <= 0:
        return []
    return [t for t in THRESHOLDS if t > notified_percent and allowance_used * 100 >= t * allowance_total]


def record_crossings(
    *,
    workspace_id: uuid.UUID,
    period_start: date | None,
    allowance_used: int,
    allowance_total: int,
    notified_percent: int,
    now: datetime,
) -> int | None:
    """After a charge: record the notices it crossed and queue the email of the highest
    (returned), or None.

    Decided from what the charge returned, so the common case costs no query. The
    conditional UPDATE makes one request the winner when several cross at once; a
    crash before it only delays the notice to the next charge, which crosses again.
    """
    crossed = crossed_thresholds(
        allowance_used=allowance_used, allowance_total=allowance_total, notified_percent=notified_percent
    )
    if not crossed or period_start is None:
        return None
    top = max(crossed)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credits_creditbalance SET notified_percent = %s "
            "WHERE workspace_id = %s AND period_start = %s AND notified_percent < %s RETURNING notified_percent",
            [top, workspace_id, period_start, top],
        )
        if cursor.fetchone() is None:
            return None
        notice_ids = []
        for threshold in crossed:
            cursor.execute(
                "INSERT INTO credits_creditnotice (workspace_id, period_start, threshold, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                [workspace_id, period_start, threshold, now],
            )
            row = cursor.fetchone()
            if row is not None:
                notice_ids.append(row[0])
        if not notice_ids:
            return None
        # Reaching 100 % at once also records 80 %, but only the highest is worth an email.
        outbox.enqueue_task(SEND_CREDIT_NOTICE_TASK, notice_ids[-1], stream=f"credit-notices:{workspace_id}")
    return int(notice_ids[-1])


def _subscription_url(workspace_id: uuid.UUID) -> str:
    for name in ("subscription_overview", "workspace_home"):
        try:
            return str(settings.SITE_URL).rstrip("/") + reverse(name, args=[workspace_id])
        except NoReverseMatch:
            continue
    return str(settings.SITE_URL)  # pragma: no cover


def notice_send(*, notice_id: int) -> bool:
    """Email the billing contacts about one recorded notice, once (returns whether sent)."""
    with transaction.atomic():
        notice = (
            CreditNotice.objects.select_for_update().select_related("workspace").filter(pk=notice_id).first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        recipients = billing_contacts(notice.workspace)
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "workspace": notice.workspace,
                "threshold": notice.threshold,
                "url": _subscription_url(notice.workspace_id),
            }
            if notice.threshold >= 100:
                subject = _("%(workspace)s has used all of its AI credit allowance") % {
                    "workspace": notice.workspace.name
                }
            else:
                subject = _("%(workspace)s has used %(percent)s %% of its AI credit allowance") % {
                    "workspace": notice.workspace.name,
                    "percent": notice.threshold,
                }
            body = render_to_string("credits/email/credit_notice.txt", context)
        if recipients:
            send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True

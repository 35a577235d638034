"""The billing contacts are emailed once per credit period at 80 % and at 100 % of the allowance."""

from __future__ import annotations

import pytest
from django.core import mail

from credits import notifications, services
from credits.models import CreditNotice
from credits.sweeps import run_credit_sweeps
from tests.credits.helpers import utc
from tests.factories import MembershipFactory
from workspaces.models import Role

MARCH = utc(2026, 3, 10, 9)
APRIL = utc(2026, 4, 2, 9)


@pytest.fixture
def team(workspace):
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN)
    billing_admin = MembershipFactory(workspace=workspace, role=Role.BILLING_ADMIN)
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    workspace.billing_email = "compta@acme.test"
    workspace.save()
    services.allowance_ensure_current(workspace=workspace, now=MARCH)  # Free: 10 credits
    services.credits_grant_purchased(
        workspace=workspace, credits=50, amount_paid_cents=100, currency="EUR", source="invoice:1", now=MARCH
    )
    return workspace, member, admin, billing_admin


def _use(workspace, member, quantity, key, now=MARCH, captures=None):
    with captures(execute=True):
        services.credits_consume(
            workspace=workspace,
            actor=member,
            action="summarize",
            quantity=quantity,
            idempotency_key=key,
            now=now,
        )


@pytest.mark.django_db
def test_80_and_100_percent_notices_are_sent_once_per_period(team, django_capture_on_commit_callbacks):
    workspace, member, admin, billing_admin = team
    owner_email = workspace.memberships.get(role=Role.OWNER).user.email
    _use(workspace, member, 7, "a", captures=django_capture_on_commit_callbacks)
    assert mail.outbox == []
    _use(workspace, member, 1, "b", captures=django_capture_on_commit_callbacks)  # 8 of 10
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted(
        [owner_email, admin.user.email, billing_admin.user.email, "compta@acme.test"]
    )  # the billing contacts, not the members
    assert "80" in mail.outbox[0].subject
    _use(workspace, member, 1, "c", captures=django_capture_on_commit_callbacks)  # 9 of 10
    assert len(mail.outbox) == 1
    _use(
        workspace, member, 5, "d", captures=django_capture_on_commit_callbacks
    )  # allowance gone, purchased used
    assert len(mail.outbox) == 2
    assert "Acme Test" in mail.outbox[1].subject
    _use(workspace, member, 5, "e", captures=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert sorted(CreditNotice.objects.filter(workspace=workspace).values_list("threshold", flat=True)) == [
        80,
        100,
    ]
    # A new period, new notices.
    run_credit_sweeps(now=APRIL)
    _use(workspace, member, 8, "f", now=APRIL, captures=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_jumping_to_100_percent_sends_one_email_and_records_both(team, django_capture_on_commit_callbacks):
    workspace, member, _admin, _billing_admin = team
    _use(workspace, member, 12, "all", captures=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert sorted(CreditNotice.objects.filter(workspace=workspace).values_list("threshold", flat=True)) == [
        80,
        100,
    ]


@pytest.mark.django_db
def test_a_captured_reservation_counts_and_a_notice_is_never_sent_twice(
    team, django_capture_on_commit_callbacks
):
    workspace, member, _admin, _billing_admin = team
    with django_capture_on_commit_callbacks(execute=True):
        held = services.credits_reserve(
            workspace=workspace, actor=member, action="summarize", quantity=9, idempotency_key="r", now=MARCH
        )
        services.reservation_capture(workspace=workspace, reservation_id=held.reservation.pk, now=MARCH)
    assert len(mail.outbox) == 1
    notice = CreditNotice.objects.get(workspace=workspace, threshold=80)
    assert notice.sent_at is not None
    # The task runs again (a retry): nothing more is sent.
    assert notifications.notice_send(notice_id=notice.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_no_notice_without_an_allowance():
    assert notifications.crossed_thresholds(allowance_used=5, allowance_total=0, notified_percent=0) == []
    assert notifications.crossed_thresholds(allowance_used=79, allowance_total=100, notified_percent=0) == []
    assert notifications.crossed_thresholds(allowance_used=80, allowance_total=100, notified_percent=0) == [
        80
    ]
    assert notifications.crossed_thresholds(allowance_used=100, allowance_total=100, notified_percent=80) == [
        100
    ]

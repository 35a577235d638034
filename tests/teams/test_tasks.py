"""The daily seat job is scheduled by beat and runs the sweep as of now."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings

from billing.tasks import run_seat_sweeps_task
from invoices.models import Invoice
from teams import services as membership_services
from tests.factories import UserFactory
from tests.teams.conftest import at

pytestmark = pytest.mark.django_db


def test_beat_runs_the_seat_job_every_day():
    entry = settings.CELERY_BEAT_SCHEDULE["teams-seat-sweeps"]
    assert entry["task"] == "billing.tasks.run_seat_sweeps_task"
    assert entry["schedule"] == crontab(hour=2, minute=0)


def test_the_task_invoices_yesterdays_seats(workspace, owner, pro_annual, add_members):
    add_members(2)
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        invitation = membership_services.invitation_create(
            workspace=workspace, actor=owner, email="new@team.test", role="member"
        )
        membership_services.invitation_accept(token=invitation.token, user=UserFactory(email="new@team.test"))
    with time_machine.travel(at(date(2026, 3, 2), 2), tick=False):
        result = run_seat_sweeps_task.delay().get()
    assert result["seat_invoices"] == 1
    assert Invoice.objects.get(workspace=workspace).source == f"seats:{workspace.pk}:2026-03-01"

"""The set-based renewal run next to other invoicing, in real parallel transactions."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from billing.services.renewals import renew_due_subscriptions
from invoices import issuing as invoice_issuing
from invoices.models import Invoice
from invoices.totals import DraftLine
from subscriptions.models import Subscription
from teams.services import seats_sync
from tests.factories import MembershipFactory, SubscriptionRowFactory, WorkspaceFactory
from tests.subscriptions.conftest import paris
from workspaces.models import Role

NOW = datetime(2026, 6, 1, 0, 5, tzinfo=UTC)


def _run_in_threads(targets):
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def runner(target):
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # reported below, the test must see it
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_and_direct_invoices_at_once_renew_each_once_with_consecutive_numbers():
    due = []
    for n in range(30):
        workspace = WorkspaceFactory(name=f"Due {n}")
        MembershipFactory(workspace=workspace, role=Role.OWNER)
        # The row a purchase of Business monthly on 1 May leaves, written directly: a
        # purchase would issue its own invoice and take a number the test counts.
        due.append(
            SubscriptionRowFactory(
                workspace=workspace,
                plan_code="business",
                interval="month",
                start=date(2026, 5, 1),
                card=False,
            )
        )
        # Business has no included seat: the owner holds a paid seat, co-termed (the
        # state the purchase left), which the renewal bills.
        seats_sync(workspace=workspace, now=datetime(2026, 5, 1, tzinfo=UTC))
    others = [WorkspaceFactory(name=f"Direct {n}") for n in range(3)]

    def sweep():
        renew_due_subscriptions(now=NOW, batch_size=7)

    def direct(workspace):
        def issue():
            for n in range(10):
                invoice_issuing.invoice_create(
                    workspace=workspace,
                    lines=[DraftLine(kind="plan", description="Manual, 1 × 10,00 €", amount_cents=1_000)],
                    billing_reason="manual",
                    source=f"direct:{n}",
                    now=NOW,
                )

        return issue

    _run_in_threads([sweep, sweep, *[direct(w) for w in others]])

    renewals = Invoice.objects.filter(billing_reason="subscription_cycle")
    assert renewals.count() == 30
    assert sorted(renewals.values_list("workspace_id", flat=True)) == sorted(s.workspace_id for s in due)
    assert set(renewals.values_list("total_cents", flat=True)) == {2_400}
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 61)]
    # The renewed period ends at midnight in Paris, the workspaces' billing time zone.
    assert {s.current_period_end for s in Subscription.objects.filter(pk__in=[s.pk for s in due])} == {
        paris(2026, 7, 1)
    }

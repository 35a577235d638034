"""A workspace's billing life as random sequences of everything its admins and the
scheduler do, with the invariants of the rules checked after every step.

One workspace lives through subscriptions, plan changes, customizations, a switch to
annual, credit packs, members joining and leaving, seats changing their billing period,
ownership transfers, declined and fixed cards, cards whose charges ask for 3-D Secure
(authenticated, failed or left to lapse), cancellations and reactivations, while the
clock moves by hours, days, weeks, to month ends and to what falls due next, with
``billing_tick`` run at every instant a sweep has work. A second workspace, on a paid
plan, only lives through the same ticks: nothing the first one does may touch it.

Every operation goes through the public services as the pages do: a preview, then its
confirmation with the preview's one-time token; payments through the test run's offline
Stripe. A change confirmed with a card whose charges ask for 3-D Secure waits
(docs/rules/lifecycle.md#pay-then-apply) until the payer authenticates it on the
confirmation page, fails to, or lets it lapse (:mod:`tests.properties.waiting`).

Invariants (:mod:`tests.properties.checks`): the credit ledger against its cached
balance and the allowance bound; every document's lines, VAT and totals; gap-free
numbering in date order; issued documents never change; each preview against the money
its confirmation moved, when it waited for authentication too; the money collected
against the paid invoices; failed invoices in dunning and the subscription past due
exactly then; and the money billed against the value of the time held
(:mod:`tests.properties.model`).

Each example runs inside a transaction rolled back at its end (a savepoint of the test's
transaction), on workspaces it opens itself: about 0.04 s of set-up per example, where
emptying the tables and reloading the catalog would take ten times as long.

``make test`` replays the same examples on every run; ``HYPOTHESIS_PROFILE=long``
(``make properties``) explores ten times as many new ones. ``BILLING_PROPERTIES_VERBOSE=1``
prints each example's steps.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from hypothesis.stateful import (
    invariant,
    run_state_machine_as_test,
)

from tests.properties import checks, money
from tests.properties.payment_rules import PaymentRules
from tests.properties.plan_rules import PlanRules
from tests.properties.seat_rules import SeatRules


class BillingLife(PlanRules, PaymentRules, SeatRules):
    # --- invariants --------------------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        documents = checks.issued_documents()
        by_id = {document.invoice.pk: document for document in documents}
        for document in documents:
            checks.check_document(document, by_id)
        checks.check_numbering(documents)
        checks.check_unchanged(documents, self.seen)
        cancellations = checks.check_cancellations(documents, by_id)
        tenants = [self.ws]
        if self.ticked:
            tenants.append(self.other)
        else:
            assert checks.tenant_digest(self.other) == self.other_digest, (
                f"{self.steps[-1]}: another workspace's step changed the bystander's books"
            )
        for workspace in tenants:
            timeline = self.timelines[workspace.pk]
            checks.check_ledgers(workspace)
            checks.check_allowance_grants(workspace, timeline)
            checks.check_cash(workspace, documents)
            checks.check_dunning(workspace)
            money.check_no_credit_for_unpaid_seats(workspace, documents)
            money.check_money(
                money.money_of(workspace, documents, timeline, self.forgone[workspace.pk], cancellations),
                workspace.name,
            )


def _profile_name() -> str:
    """``HYPOTHESIS_PROFILE=long`` selects the long profile (tests/properties/conftest.py)."""
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "")
    if chosen == "long":
        return "billing-life-long"
    return chosen if chosen.startswith("billing-life") else "billing-life"


@pytest.mark.django_db
def test_billing_life() -> None:
    run_state_machine_as_test(BillingLife, settings=settings.get_profile(_profile_name()))

"""Reads: the plan picker, annual savings from real prices, seats, the next renewal."""

import pytest

from billing.services import subscription_start_free
from invoices.models import Invoice, InvoiceStatus
from subscriptions import selectors
from subscriptions.models import Plan, Subscription
from teams import selectors as team_selectors
from tests.factories import PriceFactory, WorkspaceFactory, subscribe
from tests.subscriptions.conftest import add_members, at, paris, save_card
from workspaces import selectors as workspace_selectors
from workspaces.models import Role


def test_the_catalog_lists_public_plans_with_prices_in_the_workspace_currency(workspace):
    business = Plan.objects.get(code="business")
    PriceFactory(plan=business, currency="USD", seat_amount=2_200)
    PriceFactory(plan__code="usd-only", plan__name="USD only", plan__rank=99, currency="USD", base_amount=100)

    catalog = list(selectors.plan_catalog(workspace))

    codes = [plan.code for plan in catalog]
    assert codes == ["free", "starter", "pro", "business", "max", "team-starter", "enterprise"]
    assert "education" not in codes  # not public
    by_code = {plan.code: plan for plan in catalog}
    assert {p.currency for p in by_code["business"].offered_prices} == {"EUR"}
    assert sorted(p.interval for p in by_code["pro"].offered_prices) == ["month", "week", "year"]


def test_annual_savings_come_from_the_real_prices(workspace, owner):
    save_card(workspace, owner)
    subscribe(workspace, owner, "team-starter", now=at(2026, 4, 1))

    savings = team_selectors.annual_savings(workspace)

    # 12 × 159,00 € − 1 590,00 € = 318,00 €, 16,67 % of 1 908,00 €.
    assert (savings.twelve_months_cents, savings.annual_cents) == (190_800, 159_000)
    assert savings.amount_cents == 31_800
    assert savings.percent_bp == 1_667
    assert savings.percent == 17


def test_the_seed_example_of_savings():
    savings = selectors.savings_between(monthly_cents=15_900, annual_cents=15_900, currency="EUR")
    assert savings.amount_cents == 174_900  # "1 749 €"
    assert savings.percent == 92  # "Économisez 92 %"


def test_savings_count_the_billable_seats(workspace, owner):
    save_card(workspace, owner)
    subscribe(workspace, owner, "team-starter", extra_seats=5, now=at(2026, 4, 1))
    savings = team_selectors.annual_savings(workspace)
    assert savings.twelve_months_cents == 12 * (15_900 + 5 * 1_500)
    assert savings.annual_cents == 159_000 + 5 * 15_000


def test_no_savings_off_monthly(workspace, owner):
    subscription_start_free(workspace=workspace, now=at(2026, 4, 1))
    assert team_selectors.annual_savings(workspace) is None
    save_card(workspace, owner)
    subscribe(workspace, owner, "business", "year", now=at(2026, 4, 1))
    assert team_selectors.annual_savings(workspace) is None


def test_seats_licensed_capacity_and_billable(workspace, owner, other_workspace):
    add_members(workspace, 3)
    add_members(workspace, 2, Role.GUEST)
    add_members(workspace, 1, Role.BILLING_ADMIN)
    save_card(workspace, owner)
    subscribe(workspace, owner, "team-starter", extra_seats=5, now=at(2026, 4, 1))

    summary = team_selectors.seat_summary(workspace)
    billable = team_selectors.billable_seat_count(workspace)

    assert summary.licensed == 5  # owner, 3 members, the billing admin; guests hold none
    assert (summary.included, summary.extra_capacity, summary.capacity, billable) == (5, 5, 10, 5)
    assert team_selectors.licensed_count(other_workspace) == 2


def test_members_beyond_the_capacity_are_billed(workspace, owner):
    add_members(workspace, 7)
    save_card(workspace, owner)
    subscribe(workspace, owner, "team-starter", extra_seats=1, now=at(2026, 4, 1))
    summary = team_selectors.seat_summary(workspace)
    billable = team_selectors.billable_seat_count(workspace)
    assert (summary.licensed, summary.capacity, billable) == (8, 8, 3)


def test_free_seats_are_never_billed(workspace):
    add_members(workspace, 12)
    subscription_start_free(workspace=workspace, now=at(2026, 4, 1))
    assert team_selectors.billable_seat_count(workspace) == 0


def test_the_next_renewal_amount(workspace, owner):
    save_card(workspace, owner)
    subscribe(workspace, owner, "team-starter", extra_seats=5, now=at(2026, 4, 1))

    quote = team_selectors.next_renewal(workspace)

    assert quote.at == paris(2026, 5, 1)
    assert quote.amount_cents == 28_080
    assert [line.kind for line in quote.lines] == ["plan", "seats"]


def test_nothing_renews_on_free(workspace):
    subscription_start_free(workspace=workspace, now=at(2026, 4, 1))
    assert team_selectors.next_renewal(workspace) is None


@pytest.mark.django_db
def test_a_workspace_without_a_row_is_described_as_free_without_writing():
    legacy = WorkspaceFactory()

    subscription = selectors.subscription_of(legacy)

    assert subscription.pk is None
    assert subscription.plan.is_free
    assert not Subscription.objects.filter(workspace=legacy).exists()


def test_billing_contacts_are_owner_admins_and_the_billing_email(workspace, owner, admin, member):
    workspace.billing_email = "Compta@Acme.test"
    workspace.save()
    assert workspace_selectors.billing_contacts(workspace) == sorted(
        [owner.user.email, admin.user.email, "Compta@Acme.test"], key=str.lower
    )


def test_subscription_of_reads_the_right_tenant(workspace, owner, other_workspace):
    save_card(workspace, owner)
    subscribe(workspace, owner, "business", now=at(2026, 4, 1))
    subscription_start_free(workspace=other_workspace, now=at(2026, 4, 1))
    assert selectors.subscription_of(workspace).plan.code == "business"
    assert selectors.subscription_of(other_workspace).plan.is_free
    assert Invoice.objects.filter(workspace=other_workspace, status=InvoiceStatus.PAID).count() == 0

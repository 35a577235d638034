"""Renewals and charges checked against figures written out by hand, never computed with
the production rounding: the anchor day at the end of a month, the add-ons' price per
period, and the charge's "already paid" guard (docs/rules/billing-calendar.md,
docs/rules/plans.md#add-ons, docs/rules/payments.md#charging-an-invoice)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from billing import services
from billing.sweeps import renew
from invoices.models import Charge, Invoice, InvoiceLine
from subscriptions.models import AddOn, Subscription
from tests.factories import SubscriptionAddOnFactory
from tests.subscriptions.conftest import at, save_card, subscribe

pytestmark = pytest.mark.django_db

#: The workspace's billing time zone (the default): periods end at midnight there.
PARIS = ZoneInfo("Europe/Paris")


def _period_ends(workspace) -> list[str]:
    ends = (
        InvoiceLine.objects.filter(invoice__workspace=workspace, kind__in=("plan", "seats"))
        .order_by("id")
        .values_list("period_end", flat=True)
    )
    return [end.astimezone(PARIS).date().isoformat() for end in ends if end is not None]


def test_a_subscription_bought_on_the_31st_renews_on_the_last_day_of_short_months(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 1, 31, 10))

    for now in (at(2026, 2, 28, 0, 5), at(2026, 3, 31, 0, 5), at(2026, 4, 30, 0, 5), at(2026, 5, 31, 0, 5)):
        renew(now=now, charge_inline=True)

    # Back to the 31st after February: the anchor is the day bought, not the period's start.
    assert _period_ends(billed_workspace) == [
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
    ]
    subscription = Subscription.objects.get(workspace=billed_workspace)
    assert subscription.current_period_end == datetime(2026, 6, 30, tzinfo=PARIS)


def test_a_subscription_bought_on_the_29th_keeps_its_day_after_february(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 1, 29, 10))

    for now in (at(2026, 2, 28, 0, 5), at(2026, 3, 29, 0, 5)):
        renew(now=now, charge_inline=True)

    assert _period_ends(billed_workspace) == ["2026-02-28", "2026-03-29", "2026-04-29"]


def _with_addon(workspace, code: str, quantity: int) -> None:
    SubscriptionAddOnFactory(
        subscription=Subscription.objects.get(workspace=workspace),
        addon=AddOn.objects.get(code=code),
        quantity=quantity,
    )


def _addon_lines(workspace) -> list[int]:
    return list(
        InvoiceLine.objects.filter(invoice__workspace=workspace, kind="addon")
        .order_by("id")
        .values_list("amount_cents", flat=True)
    )


def test_an_annual_renewal_bills_an_addon_twelve_months(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "pro", "year", now=at(2026, 1, 1, 10))
    _with_addon(billed_workspace, "ai-credits", 2)  # 10,00 € a month each

    renew(now=at(2027, 1, 1, 0, 5), charge_inline=True)

    assert _addon_lines(billed_workspace) == [24_000]  # 2 × 10,00 € × 12


def test_a_weekly_renewal_bills_an_addon_twelve_fifty_seconds_of_a_month(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "pro", "week", now=at(2026, 1, 1, 10))
    _with_addon(billed_workspace, "prototypes", 1)  # 8,00 € a month

    renew(now=at(2026, 1, 8, 0, 5), charge_inline=True)

    assert _addon_lines(billed_workspace) == [185]  # 8,00 € × 12 / 52 = 1,846… → 1,85 €


def test_a_monthly_renewal_bills_an_addon_one_month(billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 1, 1, 10))
    _with_addon(billed_workspace, "prototypes", 3)

    renew(now=at(2026, 2, 1, 0, 5), charge_inline=True)

    assert _addon_lines(billed_workspace) == [2_400]  # 3 × 8,00 €


def test_an_invoice_already_paid_is_not_charged_again(billed_workspace, owner):
    save_card(billed_workspace, owner)
    result = subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    invoice = result.invoice
    assert invoice.status == "paid"
    charges = Charge.objects.filter(workspace=billed_workspace).count()

    again = services.charge_invoice(invoice_id=invoice.pk, attempt=2, now=at(2026, 4, 1, 10))

    assert again.succeeded is True
    assert Charge.objects.filter(workspace=billed_workspace).count() == charges == 1
    assert Invoice.objects.get(pk=invoice.pk).paid_at == at(2026, 4, 1, 9)

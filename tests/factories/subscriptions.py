"""The catalog, payment methods and subscriptions.

A subscription is bought through billing: :func:`subscribe` (or
:class:`SubscriptionFactory`, which calls it) previews and applies the purchase, so its
invoice, charge, credit allowance, seat sync and events all exist as in production.
:class:`SubscriptionRowFactory` writes the row alone, for the few tests that need the
state without the purchase (each says why).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import factory
from django.utils import timezone

from billing import services
from billing.services import ApplyResult
from domain.periods import Interval, add_interval
from gateways.stripe.client import client
from gateways.stripe.gateway import StripeGateway
from gateways.stripe.test_cards import save_test_card
from subscriptions.models import (
    AddOn,
    Channel,
    PaymentMethod,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
    SubscriptionStatus,
)
from tests.factories.workspaces import owner_of
from workspaces.models import Membership, Workspace

VISA_OK = "4242424242424242"
#: Attaches to the customer, then every charge is declined (Stripe's test card).
VISA_DECLINED = "4000000000000341"
#: Every off-session charge asks the payer to authenticate (3-D Secure).
VISA_3DS = "4000002760003184"


# --- the catalog (operators edit it in the admin: plain rows) ----------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    rank = factory.Sequence(lambda n: 100 + n)


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price

    plan = factory.SubFactory(PlanFactory)
    interval = Interval.MONTH.value
    currency = "EUR"
    base_amount = 0
    seat_amount = 0


class SubscriptionAddOnFactory(factory.django.DjangoModelFactory):
    """An add-on of the catalog on a subscription, by ``code``, written directly (no charge;
    customers and operators buy them through the customization). ``subscription`` is required."""

    class Meta:
        model = SubscriptionAddOn

    class Params:
        code = "ai-credits"

    addon = factory.LazyAttribute(lambda o: AddOn.objects.get(code=o.code))
    quantity = 1


def price_id(plan: str, interval: str = "month", currency: str = "EUR") -> int:
    """The active price of ``plan`` for ``interval`` and ``currency``."""
    return Price.objects.get(plan__code=plan, interval=interval, currency=currency, is_active=True).pk


# --- payment methods ------------------------------------------------------------------------------


def save_card(
    workspace: Workspace,
    actor: Membership | None = None,
    number: str = VISA_OK,
    *,
    now: datetime,
    exp_month: int = 12,
    exp_year: int = 2039,
) -> PaymentMethod:
    """Save a test card as the default payment method through Stripe, as the card page
    does (``number`` picks the outcome of its charges: ``VISA_OK``, ``VISA_DECLINED``,
    ``VISA_3DS``…)."""
    return save_test_card(
        workspace=workspace,
        actor=actor or owner_of(workspace),
        number=number,
        exp_month=exp_month,
        exp_year=exp_year,
        now=now,
    ).method


def make_charges_succeed(workspace: Workspace) -> None:
    """The bank now accepts the card on file (its funds were topped up): the stored card
    keeps what it shows, but its next charges go to a good card of the same customer."""
    good = client().v1.payment_methods.create(
        params={"type": "card", "card": {"number": VISA_OK, "exp_month": 12, "exp_year": 2039, "cvc": "123"}}
    )
    customer = StripeGateway().ensure_customer(workspace)
    client().v1.payment_methods.attach(good.id, params={"customer": customer})
    PaymentMethod.objects.filter(workspace=workspace, is_default=True).update(card_token=good.id)


class PaymentMethodFactory(factory.django.DjangoModelFactory):
    """A test card saved through :func:`save_card`. ``workspace`` is required."""

    class Meta:
        model = PaymentMethod

    number = VISA_OK
    actor = None
    exp_month = 12
    exp_year = 2039
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, number, actor, exp_month, exp_year, created_at):
        return save_card(workspace, actor, number, now=created_at, exp_month=exp_month, exp_year=exp_year)


# --- subscriptions ------------------------------------------------------------------------------------


def subscribe(
    workspace: Workspace,
    actor: Membership | None = None,
    plan: str = "pro",
    interval: str = "month",
    *,
    now: datetime,
    extra_seats: int = 0,
    trial: bool = False,
    card: str | None = VISA_OK,
) -> ApplyResult:
    """Subscribe ``workspace`` to ``plan`` as a customer does — the way tests subscribe:
    ``preview_subscribe`` then ``apply_subscribe`` at ``now``, by ``actor`` (default: the
    owner), so the invoice, the charge, the allowance, the seat sync and the events exist.

    A workspace without a subscription row starts on Free first, at ``now``. A purchase
    charged now (not a trial) needs a card: unless ``card`` is None, that test card is
    saved first when the workspace has none on file.
    """
    actor = actor or owner_of(workspace)
    services.subscription_start_free(workspace=workspace, now=now)
    if card and not trial and not PaymentMethod.objects.filter(workspace=workspace, is_default=True).exists():
        save_card(workspace, actor, card, now=now)
    pid = price_id(plan, interval, workspace.currency)
    preview = services.preview_subscribe(
        workspace=workspace, price_id=pid, trial=trial, extra_seats=extra_seats, now=now
    )
    return services.apply_subscribe(
        workspace=workspace,
        actor=actor,
        price_id=pid,
        trial=trial,
        extra_seats=extra_seats,
        preview=preview,
        now=now,
    )


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription bought through :func:`subscribe`. ``workspace`` is required; the
    other declarations are :func:`subscribe`'s options."""

    class Meta:
        model = Subscription

    plan_code = "pro"
    interval = Interval.MONTH.value
    extra_seats = 0
    trial = False
    actor = None
    now = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, plan_code, **options):
        return subscribe(workspace, plan=plan_code, **options).subscription


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class SubscriptionRowFactory(factory.django.DjangoModelFactory):
    """The row a purchase leaves, written directly — without the purchase: no invoice,
    no charge, no allowance, no seat sync, no event. Replaces any row the workspace has.

    Not a way to subscribe (use :func:`subscribe`): only for a test that needs the state
    without those side effects, and says why where it uses it — a state billing never
    produces through its web services (a subscription bought on mobile), rows older than
    a rule (a data migration's input), the input of a service billing calls after it
    wrote the row (the seat sync, the allowance reset: the purchase would have run it
    already), or a test counting every invoice and charge (the purchase's own would count).

    ``workspace`` is required. ``plan_code``, ``interval`` and ``start`` (a date: the
    period starts at its midnight UTC, the anchor is its day) pick the price and period;
    ``card`` is the test card then saved through :func:`save_card` (default ``VISA_OK``;
    ``card=False``: none).
    """

    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    class Params:
        plan_code = "pro"
        interval = Interval.YEAR.value
        start = date(2026, 1, 1)

    price = factory.LazyAttribute(
        lambda o: Price.objects.get(
            plan__code=o.plan_code, interval=o.interval, currency=o.workspace.currency, is_active=True
        )
    )
    plan = factory.SelfAttribute("price.plan")
    status = SubscriptionStatus.ACTIVE
    current_period_start = factory.LazyAttribute(lambda o: _midnight(o.start))
    current_period_end = factory.LazyAttribute(
        lambda o: _midnight(add_interval(o.start, Interval(o.interval), anchor_day=o.start.day))
    )
    billing_anchor_day = factory.LazyAttribute(lambda o: o.start.day)
    channel = Channel.WEB
    extra_seats = 0

    @classmethod
    def _create(cls, model_class, *, workspace, **fields):
        return model_class.objects.update_or_create(workspace=workspace, defaults=fields)[0]

    @factory.post_generation
    def card(self, create, extracted, **kwargs):
        number = VISA_OK if extracted is None else extracted
        if create and number is not False:
            save_card(self.workspace, number=number, now=self.current_period_start)

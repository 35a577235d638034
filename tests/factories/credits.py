"""Credit grants, ledger entries, reservations, balances and API keys, through the credit
services: the ledger is append-only and its balance the sum of its entries (both enforced
by the database), so every row here is written by the service the product uses.

``workspace`` is required by each factory; ``created_at`` is the service's ``now``.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from credits import apikeys, services
from credits.models import ApiKey, CreditBalance, CreditGrant, LedgerEntry, Reservation
from tests.factories.workspaces import owner_of


class CreditBalanceFactory(factory.django.DjangoModelFactory):
    """The workspace's balance row with its current allowance (``allowance_ensure_current``)."""

    class Meta:
        model = CreditBalance

    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, created_at):
        services.allowance_ensure_current(workspace=workspace, now=created_at)
        return model_class.objects.get(workspace=workspace)


class PurchasedCreditsFactory(factory.django.DjangoModelFactory):
    """Credits bought (``credits_grant_purchased``): they never expire."""

    class Meta:
        model = CreditGrant

    amount = 1_000
    amount_paid_cents = 500
    currency = "EUR"
    source = factory.Sequence(lambda n: f"invoice:test-{n}")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, amount, created_at, **grant):
        return services.credits_grant_purchased(workspace=workspace, credits=amount, now=created_at, **grant)


class FreeCreditsFactory(factory.django.DjangoModelFactory):
    """Credits offered (``credits_grant_free``): never expire, paid 0."""

    class Meta:
        model = CreditGrant

    amount = 500
    reason = "Welcome gift"
    source = ""
    granted_by = None
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, amount, granted_by, created_at, **grant):
        return services.credits_grant_free(
            workspace=workspace, credits=amount, actor=granted_by, now=created_at, **grant
        )


class ConsumptionFactory(factory.django.DjangoModelFactory):
    """The ledger entry of an AI action charged at once (``credits_consume``) by
    ``actor`` (default: the owner); the balance must cover it."""

    class Meta:
        model = LedgerEntry

    actor = None
    action = "summarize"
    quantity = 1
    idempotency_key = factory.Sequence(lambda n: f"consume-{n}")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, actor, created_at, **request):
        result = services.credits_consume(
            workspace=workspace, actor=actor or owner_of(workspace), now=created_at, **request
        )
        return model_class.objects.get(pk=result.entry_id)


class ReservationFactory(factory.django.DjangoModelFactory):
    """Credits held for an AI call in flight (``credits_reserve``) by ``actor`` (default:
    the owner)."""

    class Meta:
        model = Reservation

    actor = None
    action = "summarize"
    quantity = 1
    idempotency_key = factory.Sequence(lambda n: f"reserve-{n}")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, actor, created_at, **request):
        return services.credits_reserve(
            workspace=workspace, actor=actor or owner_of(workspace), now=created_at, **request
        ).reservation


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A metering API key (``api_key_create``, as the operator command makes it). The
    plain key, shown once, is on the returned key as ``plain``."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"Key {n}")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, workspace, name, created_at):
        api_key, plain = apikeys.api_key_create(workspace=workspace, actor=None, name=name, now=created_at)
        api_key.plain = plain
        return api_key

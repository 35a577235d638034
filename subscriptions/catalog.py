"""The demo catalog (docs/rules/plans.md#demo-catalog, EUR).

Loaded once by a data migration and by ``manage.py seed_plans``; operators edit it in
the Django admin afterwards, so loading never overwrites an existing row.
"""

from __future__ import annotations

from typing import Any

# (code, name, rank, plan fields, {interval: (base, seat, credit pack amount)})
PLANS: list[tuple[str, str, int, dict[str, Any], dict[str, tuple[int, int, int]]]] = [
    (
        "free",
        "Free",
        0,
        dict(
            seats_are_free=True,
            credits_flat=10,
            credit_reset="calendar",
            show_credit_balance=False,
            is_free=True,
            credit_pack_size=1_000,
        ),
        {"month": (0, 0, 500)},
    ),
    (
        "education",
        "Education",
        5,
        dict(
            seats_are_free=True,
            credits_flat=100,
            credit_reset="calendar",
            is_public=False,
            credit_pack_size=1_000,
        ),
        {"month": (0, 0, 500)},
    ),
    (
        "starter",
        "Starter",
        10,
        dict(credits_per_seat=25, credit_reset="renewal", allows_extras=True, credit_pack_size=1_000),
        {"month": (0, 1_000, 500), "year": (0, 10_000, 500)},
    ),
    (
        "pro",
        "Pro",
        15,
        dict(
            included_seats=3,
            credits_per_seat=100,
            credit_reset="renewal",
            allows_extras=True,
            credit_pack_size=1_000,
            trial_days=7,
        ),
        {"week": (499, 499, 500), "month": (1_299, 1_299, 500), "year": (8_999, 8_999, 500)},
    ),
    (
        "business",
        "Business",
        20,
        dict(
            credits_per_seat=50,
            credit_reset="renewal",
            allows_extras=True,
            credit_pack_size=1_000,
            trial_days=14,
        ),
        {"month": (0, 2_000, 500), "year": (0, 20_000, 500)},
    ),
    (
        "max",
        "Max",
        25,
        dict(
            included_seats=3,
            credits_per_seat=500,
            credit_reset="renewal",
            allows_extras=True,
            credit_pack_size=1_000,
            trial_days=7,
        ),
        {"week": (899, 899, 500), "month": (2_499, 2_499, 500), "year": (17_999, 17_999, 500)},
    ),
    (
        "team-starter",
        "Team Starter",
        30,
        dict(
            included_seats=5,
            credits_flat=28_000_000,
            credit_reset="renewal",
            allows_extras=True,
            credit_pack_size=1_000_000,
            trial_days=14,
        ),
        {"month": (15_900, 1_500, 500), "year": (159_000, 15_000, 500)},
    ),
    (
        "enterprise",
        "Enterprise",
        40,
        dict(credits_per_seat=100, credit_reset="calendar", allows_extras=True, credit_pack_size=1_000),
        {"month": (0, 4_000, 500), "year": (0, 40_000, 500)},
    ),
]

# (code, name, monthly credits, monthly amount in cents)
ADDONS: list[tuple[str, str, int, int]] = [
    ("ai-credits", "AI credits", 1_000, 1_000),
    ("prototypes", "Prototypes", 350, 800),
]


def load_demo_catalog(plan_model: Any, price_model: Any, addon_model: Any) -> None:
    """Create missing catalog rows (models passed in so migrations can use it)."""
    for code, name, rank, fields, prices in PLANS:
        plan, _ = plan_model.objects.get_or_create(code=code, defaults={"name": name, "rank": rank, **fields})
        for interval, (base, seat, pack) in prices.items():
            price_model.objects.get_or_create(
                plan=plan,
                interval=interval,
                currency="EUR",
                is_active=True,
                defaults={"base_amount": base, "seat_amount": seat, "credit_pack_amount": pack},
            )
    for code, name, credits, amount in ADDONS:
        addon_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "monthly_credits": credits, "monthly_amount": amount, "currency": "EUR"},
        )

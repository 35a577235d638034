"""The allowance rules of docs/rules/credits.md, driven through billing's public services:
Licences (the seats the workspace pays for, empty extra seats included) and Plan changes
and the allowance (an upgrade raises the allowance at once, what was used still counts,
a downgrade keeps it until the reset, and a period never yields more than its largest
plan). Every expected figure is written out."""

from __future__ import annotations

import pytest

from billing import services as billing
from credits import allowances, selectors
from credits import services as credits
from credits.models import GrantBucket, LedgerEntry
from teams import selectors as team_selectors
from tests.credits.helpers import assert_ledger_consistent
from tests.subscriptions.conftest import add_members, at, price_id, save_card, subscribe
from workspaces.models import Role

pytestmark = pytest.mark.django_db

APRIL_1 = at(2026, 4, 1, 9)
APRIL_10 = at(2026, 4, 10, 9)
MAY_1 = at(2026, 5, 1, 0, 5)  # the next reset of a subscription renewed on the 1st


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def billed(workspace):
    """The ``workspace`` fixture as the product creates it: on Free, with its allowance."""
    billing.subscription_start_free(workspace=workspace, now=at(2026, 1, 1))
    return workspace


def _on_plan(workspace, owner, plan: str, *, members: int = 0, extra_seats: int = 0, guests: int = 0):
    """Subscribe (monthly, on 1 April 2026, card on file) with ``members`` members besides
    the owner; returns the members."""
    added = add_members(workspace, members)
    add_members(workspace, guests, Role.GUEST)
    save_card(workspace, owner)
    subscribe(workspace, owner, plan, now=APRIL_1, extra_seats=extra_seats)
    return added


def _change_plan(workspace, owner, plan: str, now):
    preview = billing.preview_change_plan(workspace=workspace, price_id=price_id(plan), now=now)
    return billing.apply_change_plan(
        workspace=workspace, actor=owner, price_id=price_id(plan), preview=preview, now=now
    )


def _use(workspace, actor, credits_wanted: int, now, key: str) -> int:
    if credits_wanted <= 0:
        return 0
    return credits.credits_consume(
        workspace=workspace,
        actor=actor,
        action="summarize",  # 1 credit each
        quantity=credits_wanted,
        idempotency_key=key,
        now=now,
    ).consumed


def _allowance(workspace, now) -> tuple[int, int]:
    """(allowance of the period, what is left of it), as the balance card shows them."""
    summary = selectors.credit_summary(workspace, now=now)
    return summary.allowance, summary.allowance_remaining


def _entries_after(workspace, mark: int) -> list[tuple[str, int]]:
    return list(
        LedgerEntry.objects.filter(workspace=workspace, pk__gt=mark)
        .order_by("id")
        .values_list("kind", "amount")
    )


def _last_entry_id(workspace) -> int:
    return LedgerEntry.objects.filter(workspace=workspace).order_by("-id").values_list("id", flat=True)[0]


# --- Licences ------------------------------------------------------------------------------------

# (plan, members besides the owner, extra seats bought, guests, licences, plan credits)
LICENCE_CASES = {
    # docs/rules/credits.md#licences: 4 seats bought, one member holds one of them.
    "business, 4 seats bought, 1 member": ("business", 0, 4, 0, 4, 200),
    "pro, the owner and 1 member": ("pro", 1, 0, 0, 2, 200),
    "pro, six members: 3 included + 3 paid": ("pro", 5, 0, 0, 6, 600),
    # The owner on an included seat plus two extra seats bought and still empty.
    "pro, the owner and 2 empty extra seats": ("pro", 0, 2, 0, 3, 300),
    # Four members: two on the extra seats, two on paid seats; each seat counted once.
    "business, 2 extra seats, 4 members, a guest": ("business", 3, 2, 1, 4, 200),
    "starter, 1 extra seat, 3 members, 2 guests": ("starter", 2, 1, 2, 3, 75),
}


@pytest.mark.parametrize(
    ("plan", "members", "extra_seats", "guests", "licences", "plan_credits"),
    list(LICENCE_CASES.values()),
    ids=list(LICENCE_CASES),
)
def test_the_allowance_counts_every_seat_paid_for_each_once(
    billed, owner, plan, members, extra_seats, guests, licences, plan_credits
):
    _on_plan(billed, owner, plan, members=members, extra_seats=extra_seats, guests=guests)

    assert allowances.allowance_of(billed).seats == licences
    assert allowances.allowance_of(billed).plan_credits == plan_credits
    assert _allowance(billed, APRIL_1) == (plan_credits, plan_credits)
    # The set-based reset counts the same licences at the next period.
    assert allowances.allowances_reset(now=MAY_1) == 1
    assert _allowance(billed, MAY_1) == (plan_credits, plan_credits)
    assert_ledger_consistent(billed)


@pytest.mark.parametrize(
    ("plan", "members", "extra_seats", "guests", "licences", "plan_credits"),
    list(LICENCE_CASES.values()),
    ids=list(LICENCE_CASES),
)
def test_teams_counts_the_licences_the_reset_counts(
    billed, owner, plan, members, extra_seats, guests, licences, plan_credits
):
    _on_plan(billed, owner, plan, members=members, extra_seats=extra_seats, guests=guests)

    assert team_selectors.licence_count(billed) == licences
    # Members holding a seat are still what the caps count.
    assert team_selectors.licensed_count(billed) == 1 + members


def test_licences_are_never_fewer_than_the_members_holding_a_seat(billed, owner):
    """Members who joined without their paid seat yet (the seat rows lag) still count."""
    _on_plan(billed, owner, "pro")
    add_members(billed, 5)  # six members, no paid seat row: 3 included seats in use

    assert team_selectors.licence_count(billed) == 6
    allowances.allowances_reset(now=MAY_1)
    assert _allowance(billed, MAY_1) == (600, 600)


# --- Plan changes and the allowance ---------------------------------------------------------------


def test_the_worked_example_upgrade_downgrade_upgrade(billed, owner):
    """docs/rules/credits.md#plan-changes-and-the-allowance: Starter with 4 licences (100
    credits), 70 used. Upgrade to Business: allowance 200, remaining 130. Downgrade back
    to Starter: still 200 until the reset, remaining 130. Upgrade to Business again the
    same period: still 200, nothing new granted."""
    member, *_ = _on_plan(billed, owner, "starter", members=3)
    assert _allowance(billed, APRIL_1) == (100, 100)
    _use(billed, member, 70, APRIL_10, "used-70")
    mark = _last_entry_id(billed)

    _change_plan(billed, owner, "business", APRIL_10)
    assert _allowance(billed, APRIL_10) == (200, 130)
    # The period's allowance grant is raised by the difference; nothing expires.
    assert _entries_after(billed, mark) == [("grant", 100)]
    assert_ledger_consistent(billed)

    _change_plan(billed, owner, "starter", at(2026, 4, 10, 10))
    assert _allowance(billed, at(2026, 4, 10, 10)) == (200, 130)

    _change_plan(billed, owner, "business", at(2026, 4, 10, 11))
    assert _allowance(billed, at(2026, 4, 10, 11)) == (200, 130)
    assert _entries_after(billed, mark) == [("grant", 100)]
    assert_ledger_consistent(billed)


def test_six_plan_changes_in_a_day_yield_no_more_than_the_largest_plan(billed, owner):
    """One licence: Business allows 50, Starter 25. Using everything after each of six
    changes used to take 275 credits out of one period."""
    _on_plan(billed, owner, "business")
    used = _use(billed, owner, 50, APRIL_10, "first")
    for hour, plan in enumerate(["starter", "business"] * 3, start=10):
        now = at(2026, 4, 10, hour)
        _change_plan(billed, owner, plan, now)
        used += _use(billed, owner, _allowance(billed, now)[1], now, f"after-{hour}")

    assert used == 50
    assert _allowance(billed, at(2026, 4, 10, 16)) == (50, 0)
    granted = LedgerEntry.objects.filter(
        workspace=billed,
        kind="grant",
        grant__bucket=GrantBucket.PLAN_ALLOWANCE,
        grant__period_start=APRIL_1.date(),
    )
    assert sum(granted.values_list("amount", flat=True)) == 50
    assert_ledger_consistent(billed)


def test_a_downgrade_keeps_the_allowance_until_the_next_reset(billed, owner):
    member, *_ = _on_plan(billed, owner, "business", members=3)  # 4 licences: 200
    _use(billed, member, 30, APRIL_10, "used-30")

    _change_plan(billed, owner, "starter", APRIL_10)
    assert _allowance(billed, APRIL_10) == (200, 170)

    allowances.allowances_reset(now=MAY_1)
    assert _allowance(billed, MAY_1) == (100, 100)  # Starter, 4 licences
    assert LedgerEntry.objects.filter(workspace=billed, kind="expire").order_by("-id")[0].amount == -170
    assert_ledger_consistent(billed)


def test_an_upgrade_counts_held_credits_as_used_and_a_release_returns_them(billed, owner):
    _on_plan(billed, owner, "starter")  # 1 licence: 25
    held = credits.credits_reserve(
        workspace=billed, actor=owner, action="prototype_screen", idempotency_key="hold", now=APRIL_10
    )

    _change_plan(billed, owner, "business", APRIL_10)
    assert _allowance(billed, APRIL_10) == (50, 45)

    credits.reservation_release(workspace=billed, reservation_id=held.reservation.pk, now=APRIL_10)
    assert _allowance(billed, APRIL_10) == (50, 50)
    assert_ledger_consistent(billed)


def test_applying_the_plan_change_to_the_allowance_twice_grants_nothing_more(billed, owner):
    member, *_ = _on_plan(billed, owner, "starter", members=1)  # 2 licences: 50
    _use(billed, member, 40, APRIL_10, "used-40")
    _change_plan(billed, owner, "business", APRIL_10)  # 100, 60 left
    mark = _last_entry_id(billed)

    credits.allowance_reset_for_plan_change(workspace=billed, now=APRIL_10)

    assert _allowance(billed, APRIL_10) == (100, 60)
    assert _entries_after(billed, mark) == []
    assert_ledger_consistent(billed)

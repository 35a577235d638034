"""invoices.totals: the pure arithmetic of an invoice."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoices.totals import DraftLine, compute_totals


def lines_of(*amounts):
    return [DraftLine(kind="plan", description=f"line {i}", amount_cents=a) for i, a in enumerate(amounts)]


def test_vat_at_twenty_percent_on_a_monthly_plan():
    totals = compute_totals(lines_of(15_900), vat_rate_bp=2000, reverse_charge=False, account_balance_cents=0)
    assert (totals.subtotal_cents, totals.vat_cents, totals.total_cents) == (15_900, 3_180, 19_080)
    assert totals.amount_due_cents == 19_080
    assert totals.account_credit_applied_cents == 0


def test_vat_rounds_half_up():
    # 300 × 5.5 % = 16.5 cents → 17 (banker's rounding would give 16).
    totals = compute_totals(lines_of(300), vat_rate_bp=550, reverse_charge=False, account_balance_cents=0)
    assert totals.vat_cents == 17
    # 299 × 5.5 % = 16.445 → 16.
    assert (
        compute_totals(
            lines_of(299), vat_rate_bp=550, reverse_charge=False, account_balance_cents=0
        ).vat_cents
        == 16
    )


def test_reverse_charge_has_no_vat():
    totals = compute_totals(lines_of(15_900), vat_rate_bp=2000, reverse_charge=True, account_balance_cents=0)
    assert totals.vat_cents == 0
    assert totals.total_cents == 15_900
    assert totals.reverse_charge is True


def test_credit_lines_are_subtracted_before_vat():
    # Upgrade: charge for the new plan's remaining time minus the old plan's unused time.
    totals = compute_totals(
        lines_of(16_000, -4_000), vat_rate_bp=2000, reverse_charge=False, account_balance_cents=0
    )
    assert totals.subtotal_cents == 12_000
    assert totals.vat_cents == 2_400
    assert totals.total_cents == 14_400


def test_account_credit_is_applied_up_to_the_total():
    totals = compute_totals(
        lines_of(10_000), vat_rate_bp=2000, reverse_charge=False, account_balance_cents=5_000
    )
    assert totals.account_credit_applied_cents == 5_000
    assert totals.amount_due_cents == 7_000
    assert totals.account_credit_remaining_cents == 0

    covered = compute_totals(
        lines_of(10_000), vat_rate_bp=2000, reverse_charge=False, account_balance_cents=20_000
    )
    assert covered.account_credit_applied_cents == 12_000
    assert covered.amount_due_cents == 0
    assert covered.account_credit_remaining_cents == 8_000


def test_a_net_credit_carries_its_vat_and_nothing_is_due():
    totals = compute_totals(
        lines_of(-5_000), vat_rate_bp=2000, reverse_charge=False, account_balance_cents=3_000
    )
    assert totals.total_cents == -6_000
    assert totals.vat_cents == -1_000
    assert totals.account_credit_applied_cents == 0
    assert totals.amount_due_cents == 0
    assert totals.account_credit_remaining_cents == 3_000


@pytest.mark.parametrize(
    ("amount", "kwargs", "error"),
    [
        (10.5, {}, TypeError),
        (True, {}, TypeError),
        (100, {"account_balance_cents": -1}, ValueError),
        (100, {"vat_rate_bp": -1}, ValueError),
        (100, {"vat_rate_bp": 20.0}, TypeError),
    ],
)
def test_bad_input_is_refused(amount, kwargs, error):
    arguments = {"vat_rate_bp": 2000, "reverse_charge": False, "account_balance_cents": 0, **kwargs}
    with pytest.raises(error):
        compute_totals(lines_of(amount), **arguments)


def _expected_vat(subtotal: int, rate_bp: int) -> int:
    exact = Decimal(subtotal) * Decimal(rate_bp) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(
    amounts=st.lists(st.integers(min_value=-10_000_000, max_value=10_000_000), min_size=1, max_size=8),
    rate_bp=st.integers(min_value=0, max_value=10_000),
    reverse_charge=st.booleans(),
    balance=st.integers(min_value=0, max_value=50_000_000),
)
def test_totals_properties(amounts, rate_bp, reverse_charge, balance):
    totals = compute_totals(
        lines_of(*amounts), vat_rate_bp=rate_bp, reverse_charge=reverse_charge, account_balance_cents=balance
    )
    subtotal = sum(amounts)
    assert totals.subtotal_cents == subtotal
    # VAT: half away from zero, a credit carrying it with its sign; none when reverse-charged.
    expected_vat = 0 if reverse_charge else _expected_vat(subtotal, rate_bp)
    assert totals.vat_cents == expected_vat
    assert totals.total_cents == subtotal + expected_vat
    # Amount due never negative; credit applied never more than the balance or the total.
    assert totals.amount_due_cents >= 0
    assert 0 <= totals.account_credit_applied_cents <= balance
    assert totals.account_credit_applied_cents <= max(totals.total_cents, 0)
    assert totals.account_credit_applied_cents + totals.account_credit_remaining_cents == balance
    if totals.total_cents >= 0:
        assert totals.amount_due_cents + totals.account_credit_applied_cents == totals.total_cents
    else:
        assert totals.amount_due_cents == 0

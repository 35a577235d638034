"""Invoice totals on the credit-note example of docs/rules/invoices.md#credit-notes, and the
arguments they refuse."""

import re

import pytest

from invoices.totals import DraftLine, compute_totals


def lines(*amounts):
    return [DraftLine(kind="plan", description=f"line {n}", amount_cents=a) for n, a in enumerate(amounts)]


def test_the_upgrade_the_downgrade_and_the_renewal_it_pays():
    # Business (20,00 €) to Enterprise (40,00 €) with 21 of 30 days left:
    # 40,00 € × 21/30 = 28,00 € less 20,00 € × 21/30 = 14,00 €.
    upgrade = compute_totals(
        lines(2_800, -1_400), vat_rate_bp=2_000, reverse_charge=False, account_balance_cents=0
    )
    assert (upgrade.subtotal_cents, upgrade.vat_rate_bp, upgrade.vat_cents, upgrade.total_cents) == (
        1_400,
        2_000,
        280,  # 14,00 € × 20 %
        1_680,
    )
    assert (upgrade.account_credit_applied_cents, upgrade.amount_due_cents) == (0, 1_680)

    # Moved back the same day: the credit note gives 16,80 € back, nothing is due.
    note = compute_totals(
        lines(1_400, -2_800), vat_rate_bp=2_000, reverse_charge=False, account_balance_cents=0
    )
    assert (note.subtotal_cents, note.vat_cents, note.total_cents, note.amount_due_cents) == (
        -1_400,
        -280,
        -1_680,
        0,
    )

    # The 16,80 € on the account balance pays the next renewal, 20,00 € + 4,00 € VAT.
    renewal = compute_totals(
        lines(2_000), vat_rate_bp=2_000, reverse_charge=False, account_balance_cents=1_680
    )
    assert (renewal.total_cents, renewal.account_credit_applied_cents, renewal.amount_due_cents) == (
        2_400,
        1_680,
        720,
    )
    assert renewal.account_credit_remaining_cents == 0


@pytest.mark.parametrize(
    ("amount", "arguments", "error", "message"),
    [
        (10.5, {}, TypeError, "amount_cents must be an int, got float"),
        (100, {"vat_rate_bp": 20.0}, TypeError, "vat_rate_bp must be an int, got float"),
        (100, {"account_balance_cents": 1.5}, TypeError, "account_balance_cents must be an int, got float"),
        (100, {"vat_rate_bp": -1}, ValueError, "vat_rate_bp cannot be negative"),
        (100, {"account_balance_cents": -1}, ValueError, "account_balance_cents cannot be negative"),
    ],
)
def test_a_bad_argument_is_refused_naming_it(amount, arguments, error, message):
    given = {"vat_rate_bp": 2_000, "reverse_charge": False, "account_balance_cents": 0, **arguments}
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        compute_totals(lines(amount), **given)

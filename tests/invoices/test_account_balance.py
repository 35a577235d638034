"""The account balance: money credit applied automatically to the next invoice, append-only."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from invoices import errors, selectors, services
from invoices.models import AccountBalanceEntry
from tests.invoices.conftest import NOW, plan_line


def credit(workspace, amount_cents, source, currency="EUR"):
    return services.account_balance_credit(
        workspace=workspace,
        amount_cents=amount_cents,
        currency=currency,
        reason="downgrade",
        source=source,
        now=NOW,
    )


def _ledger_sum(workspace):
    return AccountBalanceEntry.objects.filter(workspace=workspace).aggregate(s=Sum("amount_cents"))["s"] or 0


def test_credit_is_applied_to_the_next_invoices_until_spent(workspace, other_workspace, make_invoice):
    credit(workspace, 20_000, "downgrade:1")
    credit(other_workspace, 7_000, "downgrade:9")

    first = make_invoice(workspace, plan_line(10_000))  # 120,00 € TTC
    assert (first.account_credit_applied_cents, first.amount_due_cents, first.status) == (12_000, 0, "paid")
    second = make_invoice(workspace, plan_line(10_000), now=NOW + timedelta(days=30))
    assert (second.account_credit_applied_cents, second.amount_due_cents, second.status) == (
        8_000,
        4_000,
        "open",
    )
    third = make_invoice(workspace, plan_line(10_000), now=NOW + timedelta(days=60))
    assert (third.account_credit_applied_cents, third.amount_due_cents) == (0, 12_000)

    history = list(selectors.account_balance_history(workspace))
    assert [(e.amount_cents, e.balance_after_cents, e.invoice_id) for e in history] == [
        (-8_000, 0, second.pk),
        (-12_000, 8_000, first.pk),
        (20_000, 20_000, None),
    ]
    assert selectors.account_balance_cents(workspace) == _ledger_sum(workspace) == 0
    # The other tenant's credit is untouched.
    assert selectors.account_balance_cents(other_workspace) == _ledger_sum(other_workspace) == 7_000


def test_credit_is_idempotent_on_its_source(workspace):
    first = credit(workspace, 5_000, "seat-removal:42")
    again = credit(workspace, 9_999, "seat-removal:42")
    assert again.pk == first.pk
    assert selectors.account_balance_cents(workspace) == 5_000
    assert AccountBalanceEntry.objects.filter(workspace=workspace).count() == 1


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (0, "EUR", errors.AccountCreditInvalid),
        (-100, "EUR", errors.AccountCreditInvalid),
        (12.5, "EUR", errors.AccountCreditInvalid),
        (100, "USD", errors.AccountCreditCurrencyMismatch),
    ],
)
def test_bad_credit_is_refused_and_nothing_changes(workspace, amount, currency, error):
    with pytest.raises(error):
        credit(workspace, amount, "bad", currency=currency)
    assert AccountBalanceEntry.objects.count() == 0


def test_history_is_append_only_in_code(workspace):
    entry = credit(workspace, 5_000, "downgrade:1")
    entry.amount_cents = 50_000
    with pytest.raises(errors.AccountBalanceAppendOnly):
        entry.save()
    with pytest.raises(errors.AccountBalanceAppendOnly):
        entry.delete()
    assert selectors.account_balance_cents(workspace) == 5_000


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoices_accountbalanceentry SET amount_cents = 50000, balance_after_cents = 50000 WHERE id = %s",
        "DELETE FROM invoices_accountbalanceentry WHERE id = %s",
    ],
)
def test_database_refuses_raw_update_and_delete_of_the_history(workspace, sql):
    entry = credit(workspace, 5_000, "downgrade:1")
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    assert list(AccountBalanceEntry.objects.values_list("amount_cents", "balance_after_cents")) == [
        (5_000, 5_000)
    ]

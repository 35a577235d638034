"""When a credit period is over (docs/rules/credits.md#reset): its end is exclusive."""

from datetime import date

from domain.credit_periods import period_over


def test_a_period_is_over_on_its_end_day_and_not_before():
    # The period of an annual plan renewing on the 3rd: 3 March to 3 April.
    assert not period_over(date(2026, 4, 3), date(2026, 4, 2))
    assert period_over(date(2026, 4, 3), date(2026, 4, 3))
    assert period_over(date(2026, 4, 3), date(2026, 4, 4))


def test_a_workspace_never_granted_an_allowance_is_due_one():
    assert period_over(None, date(2026, 3, 10))

"""A card's validity and its expiry notice window (docs/rules/payments.md#card-expiry-notices)."""

from datetime import date

from domain.cards import expired, expires_soon, valid_through


def test_a_card_is_valid_through_the_last_day_of_its_expiry_month():
    assert valid_through(2, 2028) == date(2028, 2, 29)
    assert valid_through(2, 2027) == date(2027, 2, 28)
    assert valid_through(12, 2026) == date(2026, 12, 31)
    assert not expired(12, 2026, date(2026, 12, 31))
    assert expired(12, 2026, date(2027, 1, 1))


def test_the_notice_window_opens_30_days_before_the_last_valid_day_and_closes_with_it():
    assert not expires_soon(12, 2026, date(2026, 11, 30))
    assert expires_soon(12, 2026, date(2026, 12, 1))
    assert expires_soon(12, 2026, date(2026, 12, 31))
    assert not expires_soon(12, 2026, date(2027, 1, 1))
    # February 2028 ends on the 29th: the window opens on 30 January.
    assert not expires_soon(2, 2028, date(2028, 1, 29))
    assert expires_soon(2, 2028, date(2028, 1, 30))

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.pages.usage_chart import build_usage_chart, nice_ceiling

DAYS = [date(2026, 10, 1) + timedelta(days=i) for i in range(30)]


def test_zero_usage_is_a_readable_flat_chart():
    chart = build_usage_chart([(d, 0) for d in DAYS], locale="fr", credits_label="crédits")
    assert chart.is_empty
    assert len(chart.points) == 30
    assert {p.y for p in chart.points} == {chart.bottom}
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert chart.x_ticks[0].label == "1 oct."
    assert chart.x_ticks[-1].label == "30 oct."


def test_peak_reaches_the_top_and_hover_titles_carry_values():
    series = [(d, 0) for d in DAYS]
    series[10] = (DAYS[10], 3_000_000)
    chart = build_usage_chart(series, locale="fr", credits_label="crédits")
    assert chart.axis_max == 3_000_000
    assert chart.points[10].y == chart.top
    assert chart.points[10].title == "11 oct. 2026 : 3\u202f000\u202f000 crédits"
    assert chart.y_ticks[-1].label == "3\xa0M"


def test_english_labels():
    chart = build_usage_chart([(d, 5) for d in DAYS], locale="en", credits_label="credits")
    assert chart.x_ticks[0].label == "Oct 1"
    assert chart.points[0].title == "Oct 1, 2026: 5 credits"


@given(st.integers(min_value=0, max_value=10**12))
def test_axis_top_covers_the_value_with_four_whole_ticks(value):
    top = nice_ceiling(value)
    assert top >= value
    assert top % 4 == 0
    assert top <= max(4, value * 4)


@pytest.mark.parametrize(("value", "top"), [(0, 4), (11, 12), (37, 40), (2_600_000, 3_000_000)])
def test_round_axis_tops(value, top):
    assert nice_ceiling(value) == top

"""Invoice line formulas in the reader's language.

The billing engine stores each line's formula once, in a fixed wording with amounts
already formatted for the invoice language, e.g. "Business, 12 of 30 days × 240,00 €".
Every place that shows a formula (the plan-change preview, the invoice page, the PDF)
reads it through :func:`localize_formula`, which words it in the active language:
"Business, 12 jours sur 30 × 240,00 €".
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, ngettext

_UNUSED_TIME = re.compile(r"^Unused time on (?P<plan>.+?), ")
_FRACTION = re.compile(r"\b(?P<r>\d+) of (?P<t>\d+) (?P<unit>day|week|month)s?\b")
_ONE_INTERVAL = re.compile(r"(?<![\w\u00a0\u202f])1 (?P<unit>week|month|year)\b")
_EXTRA_SEATS = re.compile(r"(?P<n>-?\d+) extra seats?\b")
_SEATS = re.compile(r"(?P<n>-?\d+) seats?\b")
_CREDITS = re.compile(r"\bcredits\b")


def _fraction(match: re.Match[str]) -> str:
    remaining, total = int(match["r"]), int(match["t"])
    values = {"remaining": remaining, "total": total}
    if match["unit"] == "day":
        return (
            ngettext("%(remaining)s day of %(total)s", "%(remaining)s days of %(total)s", remaining) % values
        )
    if match["unit"] == "week":
        return (
            ngettext("%(remaining)s week of %(total)s", "%(remaining)s weeks of %(total)s", remaining)
            % values
        )
    return (
        ngettext("%(remaining)s month of %(total)s", "%(remaining)s months of %(total)s", remaining) % values
    )


def _one_interval(match: re.Match[str]) -> str:
    return {"week": gettext("1 week"), "month": gettext("1 month"), "year": gettext("1 year")}[match["unit"]]


def localize_formula(text: str) -> str:
    """The billing engine's line formula (English words, e.g. "Business, 12 of 30 days ×
    240,00 €") in the active language; amounts are already locale-formatted."""
    text = _UNUSED_TIME.sub(lambda m: gettext("Unused time on %(plan)s, ") % {"plan": m["plan"]}, text)
    text = _FRACTION.sub(_fraction, text)
    text = _ONE_INTERVAL.sub(_one_interval, text)
    text = _EXTRA_SEATS.sub(
        lambda m: ngettext("%(count)s extra seat", "%(count)s extra seats", abs(int(m["n"])))
        % {"count": m["n"]},
        text,
    )
    text = _SEATS.sub(
        lambda m: ngettext("%(count)s seat", "%(count)s seats", abs(int(m["n"]))) % {"count": m["n"]}, text
    )
    return _CREDITS.sub(gettext("credits"), text)

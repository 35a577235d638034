"""What a preview says besides money (docs/rules/lifecycle.md#previews): extra seats
carried over, reduced or ended, paid seats and their new price, add-ons, and the monthly
AI credit allowance before and after, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.pages import display
from billing.services.core import ChangeEffects, Preview
from workspaces.formatting import format_compact

#: From a million credits on, an allowance reads "28 M" (as on the Overview).
COMPACT_FROM = 1_000_000


def credits(value: int) -> str:
    """fr "28 M" for 28 000 000, "1 000" for 1 000."""
    return format_compact(value, display.locale()) if value >= COMPACT_FROM else display.number(value)


def _price(cents: int, interval: str, currency: str) -> str:
    return f"{display.money(cents, currency)} {display.per_interval(interval)}"


def _extra_seats(preview: Preview, e: ChangeEffects, plan: str) -> list[str]:
    lines = []
    each = _price(e.seat_amount_cents, e.interval, preview.currency)
    if preview.action == "customize":
        if e.extra_seats_after != e.extra_seats_before:
            lines.append(
                _("Extra seats: %(before)s → %(after)s, billed %(price)s each.")
                % {"before": e.extra_seats_before, "after": e.extra_seats_after, "price": each}
            )
        return lines
    carried = min(e.extra_seats_before, e.extra_seats_after)
    if preview.action == "subscribe" and e.extra_seats_after:
        lines.append(
            ngettext(
                "%(count)s extra seat, billed %(price)s.",
                "%(count)s extra seats, billed %(price)s each.",
                e.extra_seats_after,
            )
            % {"count": e.extra_seats_after, "price": each}
        )
    elif carried:
        lines.append(
            ngettext(
                "%(count)s extra seat carried over to %(plan)s, billed %(price)s.",
                "%(count)s extra seats carried over to %(plan)s, billed %(price)s each.",
                carried,
            )
            % {"count": carried, "plan": plan, "price": each}
        )
    if e.extra_seats_dropped and e.extra_seats_after:
        lines.append(
            ngettext(
                "%(count)s extra seat ends: %(plan)s takes at most %(cap)s.",
                "%(count)s extra seats end: %(plan)s takes at most %(cap)s.",
                e.extra_seats_dropped,
            )
            % {"count": e.extra_seats_dropped, "plan": plan, "cap": e.extra_seats_after}
        )
    elif e.extra_seats_dropped:
        lines.append(
            ngettext(
                "%(count)s extra seat ends: %(plan)s sells no extra seats.",
                "%(count)s extra seats end: %(plan)s sells no extra seats.",
                e.extra_seats_dropped,
            )
            % {"count": e.extra_seats_dropped, "plan": plan}
        )
    return lines


def _paid_seats(preview: Preview, e: ChangeEffects) -> list[str]:
    after = e.paid_seats_count_after
    if preview.action == "customize" and after == e.paid_seats_before and not e.paid_seats_ended:
        return []
    lines = [
        ngettext(
            "%(count)s paid seat, now %(price)s.",
            "%(count)s paid seats, now %(price)s each.",
            count,
        )
        % {"count": count, "price": _price(cents, interval, preview.currency)}
        for interval, cents, count in e.paid_seats_after
    ]
    if e.paid_seats_ended:
        lines.append(
            ngettext(
                "%(count)s paid seat ends; its unused time is credited.",
                "%(count)s paid seats end; their unused time is credited.",
                e.paid_seats_ended,
            )
            % {"count": e.paid_seats_ended}
        )
    return lines


def _addons(e: ChangeEffects) -> list[str]:
    lines = []
    for addon in e.addons:
        values = {
            "addon": addon.name,
            "before": addon.before,
            "after": addon.after,
            "credits": credits(addon.monthly_credits),
        }
        if addon.after == addon.before:
            lines.append(_("%(addon)s add-on kept (× %(after)s).") % values)
        elif addon.monthly_credits:
            lines.append(
                _("%(addon)s add-on: %(before)s → %(after)s (+%(credits)s credits a month each).") % values
            )
        else:
            lines.append(_("%(addon)s add-on: %(before)s → %(after)s.") % values)
    return lines


def _allowance(preview: Preview, e: ChangeEffects) -> list[str]:
    values = {"before": credits(e.allowance_before), "after": credits(e.allowance_after)}
    if e.allowance_after != e.allowance_before and values["before"] == values["after"]:
        # "28 M → 28 M" says nothing: a small change reads in full.
        values = {"before": display.number(e.allowance_before), "after": display.number(e.allowance_after)}
    if e.allowance_after == e.allowance_before:
        if preview.action == "customize":
            return []
        return [_("AI credits: %(after)s credits per month, unchanged.") % values]
    if e.allowance_from is None:
        return [_("AI credits: %(before)s → %(after)s credits per month, from today.") % values]
    return [
        _(
            "AI credits: %(before)s → %(after)s credits per month from %(date)s, the next reset; "
            "the current allowance stays until then."
        )
        % {**values, "date": display.day(e.allowance_from)}
    ]


def _packs(preview: Preview) -> list[str]:
    bought = sum(
        int(line.metadata.get("credits", 0)) for line in preview.lines if line.kind == "extra_credits"
    )
    if not bought:
        return []
    return [
        ngettext(
            "+%(credits)s purchased credit, added once paid; it never expires.",
            "+%(credits)s purchased credits, added once paid; they never expire.",
            bought,
        )
        % {"credits": display.number(bought)}
    ]


def effect_lines(preview: Preview) -> list[str]:
    """The sentences a preview shows under "What changes"; none when nothing does."""
    e = preview.effects
    if e is None:
        return []
    plan = str(preview.outcome.get("plan_name", ""))
    return [
        *_extra_seats(preview, e, plan),
        *_paid_seats(preview, e),
        *_addons(e),
        *_packs(preview),
        *_allowance(preview, e),
    ]

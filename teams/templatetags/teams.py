"""``{% load teams %}``: a proration in the reader's language ("6 mois sur 12")."""

from __future__ import annotations

from django import template
from django.utils.translation import ngettext

from domain.proration import Proration
from workspaces.formatting import format_number
from workspaces.templatetags.formatting import active_locale

register = template.Library()


@register.filter
def proration_words(proration: Proration | None) -> str:
    if proration is None:
        return ""
    values = {
        "remaining": format_number(proration.remaining_units, active_locale()),
        "total": format_number(proration.total_units, active_locale()),
    }
    if proration.unit == "month":
        return (
            ngettext(
                "%(remaining)s of %(total)s month",
                "%(remaining)s of %(total)s months",
                proration.remaining_units,
            )
            % values
        )
    return (
        ngettext(
            "%(remaining)s of %(total)s day", "%(remaining)s of %(total)s days", proration.remaining_units
        )
        % values
    )

"""An entry's values as a reader sees them: one row per field that changed, amounts in
cents shown as money in the reader's language (docs/rules/operators.md#audit-trail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.models import AuditEntry
from workspaces.formatting import format_money


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _shown(key: str, value: Any, currency: str, locale: str) -> str:
    if value is None or value == "":
        return "—"
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value, currency, locale)
    return str(value)


def changes(entry: AuditEntry, locale: str) -> list[Change]:
    """The fields named in ``before`` or ``after``, in that order, ``currency`` aside."""
    currency = str(entry.after.get("currency") or entry.before.get("currency") or "EUR")
    keys = [*entry.before, *(k for k in entry.after if k not in entry.before)]
    return [
        Change(
            field=key.removesuffix("_cents"),
            before=_shown(key, entry.before.get(key), currency, locale) if key in entry.before else "",
            after=_shown(key, entry.after.get(key), currency, locale) if key in entry.after else "",
        )
        for key in keys
        if key != "currency"
    ]


def summary(entry: AuditEntry, locale: str) -> str:
    """The changes on one line: ``role: member → admin; amount: 12,00 €``."""
    parts = []
    for change in changes(entry, locale):
        if change.before and change.after:
            parts.append(f"{change.field}: {change.before} → {change.after}")
        else:
            parts.append(f"{change.field}: {change.before or change.after}")
    return "; ".join(parts)

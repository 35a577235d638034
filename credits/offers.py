"""What an out-of-credits workspace is offered (docs/rules/credits.md#out-of-credits: a
modal shows the options to get more AI credits, including the paid AI credits add-on)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from subscriptions.models import AddOn

AI_CREDITS_ADDON = "ai-credits"

# Each option links to the subscription pages, whichever of them exist; the
# workspace home is the last resort so the link always works.
_OPTIONS: list[tuple[str, StrOrPromise, tuple[str, ...]]] = [
    ("extra_credits", _("Buy extra credits"), ("subscription_customize", "subscription_overview")),
    ("ai_credits_addon", _("Add the AI credits add-on"), ("subscription_addons", "subscription_overview")),
    (
        "plan_upgrade",
        _("Upgrade my plan"),
        ("subscription_plans", "subscription_change_plan", "subscription_overview"),
    ),
]


@dataclass(frozen=True)
class UpgradeOption:
    kind: str
    label: StrOrPromise
    path: str
    monthly_credits: int = 0


def _path(names: tuple[str, ...], workspace_id: uuid.UUID) -> str:
    for name in (*names, "workspace_home"):
        try:
            return reverse(name, args=[workspace_id])
        except NoReverseMatch:
            continue
    return "/"  # pragma: no cover - workspace_home always exists


def upgrade_options(workspace_id: uuid.UUID) -> list[UpgradeOption]:
    addon = AddOn.objects.filter(code=AI_CREDITS_ADDON, is_active=True).values("monthly_credits").first()
    options = []
    for kind, label, names in _OPTIONS:
        monthly = int(addon["monthly_credits"]) if kind == "ai_credits_addon" and addon else 0
        options.append(
            UpgradeOption(kind=kind, label=label, path=_path(names, workspace_id), monthly_credits=monthly)
        )
    return options

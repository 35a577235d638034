"""What an out-of-credits workspace is offered (docs/rules/credits.md#out-of-credits): a
modal, and the metering API's 402 answer, list extra credits, the AI credits add-on and
a plan upgrade, each linking to the very place it is bought.

Credit packs are sold on every plan that has one, Free included
(docs/rules/plans.md#extra-credits): the link opens the customization page with one pack
in the cost summary. The add-on comes with a paid plan (docs/rules/plans.md#add-ons): on
a paid plan the link opens the customization page with one more add-on; on Free it opens
the plans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from subscriptions.models import AddOn, Price, Subscription, SubscriptionAddOn

AI_CREDITS_ADDON = "ai-credits"


@dataclass(frozen=True)
class UpgradeOption:
    kind: str
    label: StrOrPromise
    path: str
    monthly_credits: int = 0
    #: The credits of one pack and its price (extra credits).
    pack_size: int = 0
    pack_amount_cents: int = 0
    currency: str = ""
    #: Whether the workspace's plan sells it (the add-on needs a paid plan).
    available: bool = True


def upgrade_options(workspace_id: uuid.UUID) -> list[UpgradeOption]:
    subscription = (
        Subscription.objects.select_related("plan", "price").filter(workspace_id=workspace_id).first()
    )
    # A workspace that predates billing is on Free (docs/rules/plans.md#plan-fields).
    price = (
        subscription.price
        if subscription is not None
        else Price.objects.filter(plan__is_free=True, is_active=True).select_related("plan").first()
    )
    plan = price.plan if price is not None else None
    pack_amount = int(price.credit_pack_amount) if price is not None else 0
    paid = plan is not None and not plan.is_free
    customize = reverse("subscription_customize", args=[workspace_id])
    plans = reverse("subscription_plans", args=[workspace_id])
    pack_size = int(plan.credit_pack_size) if plan is not None else 0
    packs_sold = bool(pack_size and pack_amount)
    options = [
        UpgradeOption(
            kind="extra_credits",
            label=_("Buy extra credits"),
            path=f"{customize}?credit_packs=1#credit-packs" if packs_sold else plans,
            pack_size=pack_size if packs_sold else 0,
            pack_amount_cents=pack_amount if packs_sold else 0,
            currency=price.currency if price is not None else "",
            available=packs_sold,
        )
    ]
    addon = AddOn.objects.filter(code=AI_CREDITS_ADDON, is_active=True).first()
    if addon is not None:
        held = (
            SubscriptionAddOn.objects.filter(subscription=subscription, addon=addon)
            .values_list("quantity", flat=True)
            .first()
            if subscription is not None
            else None
        )
        options.append(
            UpgradeOption(
                kind="ai_credits_addon",
                label=_("Add the AI credits add-on"),
                path=f"{customize}?addon-{addon.code}={(held or 0) + 1}#addon-{addon.code}"
                if paid
                else plans,
                monthly_credits=int(addon.monthly_credits),
                available=paid,
            )
        )
    options.append(UpgradeOption(kind="plan_upgrade", label=_("Upgrade my plan"), path=plans))
    return options

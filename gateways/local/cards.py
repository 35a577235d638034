"""The local gateway's card page writes: a known test card, saved through billing."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from billing.services.collection import CardSaved, card_save
from gateways.base import CardInfo
from gateways.local.gateway import TEST_CARDS, card_brand
from subscriptions import errors
from workspaces.models import Membership, Workspace


def save_test_card(
    *, workspace: Workspace, actor: Membership, number: str, exp_month: int, exp_year: int, now: datetime
) -> CardSaved:
    """Save a test card as the workspace's default payment method (then every unpaid
    invoice is charged with it).

    The form has already checked Luhn, expiry and CVC; this refuses anything but a known
    test card, and keeps its outcome category as the card's token (what a charge does).
    """
    digits = "".join(ch for ch in number if ch.isdigit())
    outcome = TEST_CARDS.get(digits)
    if outcome is None:
        raise errors.BillingError(_("This is not a test card accepted by the local payment page."))
    card = CardInfo(brand=card_brand(digits), last4=digits[-4:], exp_month=exp_month, exp_year=exp_year)
    return card_save(workspace=workspace, actor=actor, card=card, token=outcome, now=now)

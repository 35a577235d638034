"""Card-expiry notices (docs/rules/payments.md#card-expiry-notices): the billing contacts
are emailed once per card, 30 days before the end of its expiry month, and the Overview
shows a banner meanwhile."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from billing.services.card_expiry import send_card_expiry_notices
from tests.factories import MembershipFactory, save_card
from tests.subscriptions.conftest import at
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def _save_expiring(workspace, owner, month: int, year: int):
    return save_card(workspace, owner, now=at(2026, 6, 1, 8), exp_month=month, exp_year=year)


def test_the_notice_goes_out_once_30_days_before_the_end_of_the_expiry_month(billed_workspace, owner):
    _save_expiring(billed_workspace, owner, 12, 2026)
    mail.outbox.clear()

    assert send_card_expiry_notices(now=at(2026, 11, 30, 12)) == 0  # 31 days before 31 December
    assert send_card_expiry_notices(now=at(2026, 12, 1, 12)) == 1
    assert send_card_expiry_notices(now=at(2026, 12, 2, 12)) == 0  # once per card

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Votre carte expire bientôt — {billed_workspace.name}"
    assert "La carte Visa se terminant par 4242" in message.body
    assert "expire fin 12/2026" in message.body
    assert owner.user.email in message.to


def test_a_new_card_gets_its_own_notice(billed_workspace, owner):
    _save_expiring(billed_workspace, owner, 12, 2026)
    assert send_card_expiry_notices(now=at(2026, 12, 1, 12)) == 1
    _save_expiring(billed_workspace, owner, 12, 2026)  # another card, as near its end

    assert send_card_expiry_notices(now=at(2026, 12, 5, 12)) == 1


def test_a_card_far_from_its_expiry_gets_no_notice(billed_workspace, owner):
    _save_expiring(billed_workspace, owner, 12, 2039)
    assert send_card_expiry_notices(now=at(2026, 12, 1, 12)) == 0


def test_the_overview_shows_the_banner_to_billing_readers_only(client, billed_workspace, owner):
    _save_expiring(billed_workspace, owner, 12, 2026)
    member = MembershipFactory(workspace=billed_workspace, role=Role.MEMBER)
    url = reverse("subscription_overview", args=[billed_workspace.pk])
    banner = (
        "Votre carte Visa •••• 4242 expire fin 12/2026. Mettez à jour votre méthode de paiement via "
        "« Mettre à jour le paiement » pour éviter les interruptions."
    )
    with time_machine.travel(at(2026, 12, 10, 12), tick=False):
        client.force_login(owner.user)
        assert banner in client.get(url).content.decode()
        client.force_login(member.user)
        assert "expire fin 12/2026" not in client.get(url).content.decode()
    with time_machine.travel(at(2026, 11, 10, 12), tick=False):
        client.force_login(owner.user)
        assert "expire fin 12/2026" not in client.get(url).content.decode()

"""A downgrade confirmed on the plans page says what the credit note credited, VAT included
(docs/rules/invoices.md#credit-notes)."""

import pytest
import time_machine

from billing import services
from tests.subscriptions.conftest import at, price_id, save_card, subscribe
from tests.subscriptions.test_pages_actions import flashes, hidden, url

pytestmark = pytest.mark.django_db


def test_a_downgrade_flashes_the_credit_note_and_its_amount(client, billed_workspace, owner):
    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "enterprise", now=at(2026, 4, 1, 9))
    client.force_login(owner.user)
    business = price_id("business")

    with time_machine.travel(at(2026, 4, 10, 9), tick=False):
        expected = services.preview_change_plan(workspace=billed_workspace, price_id=business)
        response = client.get(url("subscription_plan_preview", billed_workspace), {"price": business})
        body = response.content.decode()
        form = {"price": business, "fingerprint": expected.fingerprint, "token": hidden(body, "token")}
        confirmed = client.post(url("subscription_plan_confirm", billed_workspace), form)

    assert confirmed.status_code == 302
    [message] = flashes(confirmed)
    # 21/30 × (40,00 € − 20,00 €) = 14,00 € + 2,80 € VAT.
    assert message.replace("\u00a0", " ").replace("\u202f", " ") == (
        "Votre plan est maintenant Business. Avoir AV-2026-000001 : 16,80 € crédités sur le solde "
        "de votre compte, déduits de votre prochaine facture."
    )


def test_a_declined_upgrade_says_nothing_changed(client, billed_workspace, owner):
    from tests.subscriptions.conftest import VISA_DECLINED

    save_card(billed_workspace, owner)
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1, 9))
    save_card(billed_workspace, owner, VISA_DECLINED)
    client.force_login(owner.user)
    enterprise = price_id("enterprise")

    with time_machine.travel(at(2026, 4, 10, 9), tick=False):
        expected = services.preview_change_plan(workspace=billed_workspace, price_id=enterprise)
        response = client.get(url("subscription_plan_preview", billed_workspace), {"price": enterprise})
        body = response.content.decode()
        form = {"price": enterprise, "fingerprint": expected.fingerprint, "token": hidden(body, "token")}
        confirmed = client.post(url("subscription_plan_confirm", billed_workspace), form)

    [message] = flashes(confirmed)
    assert message.replace("\u00a0", " ").replace("\u202f", " ") == (
        "Rien n'a été modifié : le paiement de 16,80 € a été refusé (La carte a été refusée). "
        "Mettez à jour la méthode de paiement, puis réessayez."
    )

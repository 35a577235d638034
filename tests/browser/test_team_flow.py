"""Issue 6, acceptance 3 (browser): an admin invites a member, the invitee signs up through
the emailed link and lands in the workspace, the admin reads the credit in the removal
modal and removes them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.seat_sweeps import run_seat_sweeps
from invoices.selectors import account_balance_cents
from teams.models import Seat, SeatStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, SubscriptionRowFactory, UserFactory
from workspaces.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_invites_invitee_joins_and_admin_removes_them_after_reading_the_credit(
    page, browser, live_server, screenshot
):
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Studio", user=UserFactory(email="boss@example.test")
    )
    workspace = owner.workspace
    today = timezone.now().date()
    start = today.replace(day=1)
    # Pro, annual, card on file; the row itself: the flow counts the seats it bills.
    subscription = SubscriptionRowFactory(workspace=workspace, start=start)
    MembershipFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(email="admin@example.test"))
    MembershipFactory(workspace=workspace, role=Role.MEMBER)  # the three included seats are taken

    # The admin invites someone from the members page.
    sign_in(page, "admin@example.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    page.locator(".sidebar").get_by_role("link", name="Membres").click()
    assert "3 sur 3 UTILISATEURS" in page.locator("#seat-counter").inner_text()
    page.fill("input[name=email]", "invitee@example.test")
    page.select_option("select[name=role]", "member")
    page.get_by_role("button", name="Envoyer l’invitation").click()
    page.wait_for_selector("text=Invitation envoyée à invitee@example.test.")
    screenshot("team-invited")

    # The invitee opens the emailed link, signs up, confirms the address from the email
    # every sign-up gets (the link itself verifies nothing) and lands in the workspace.
    (email,) = [m for m in mail.outbox if m.to == ["invitee@example.test"]]
    link = re.search(r"https?://\S+/invitations/\S+/", email.body).group(0)
    invitee_context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    invitee = invitee_context.new_page()
    invitee.goto("/" + link.split("/", 3)[3])
    assert "Rejoindre Studio" in invitee.content()
    invitee.get_by_role("link", name="Créer un compte").click()
    invitee.fill("input[name=email]", "invitee@example.test")
    invitee.fill("input[name=password1]", "a-Long-passphrase-42")
    invitee.fill("input[name=password2]", "a-Long-passphrase-42")
    invitee.locator("form [type=submit]").click()
    invitee.wait_for_url("**/accounts/confirm-email/")
    (confirmation,) = [m for m in mail.outbox if m.to == ["invitee@example.test"] and m is not email]
    confirm_link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", confirmation.body).group(0)
    invitee.goto("/" + confirm_link.split("/", 3)[3])
    invitee.locator("form [type=submit]").click()
    invitee.get_by_role("button", name="Accepter l’invitation").click()
    invitee.wait_for_url(f"**/{workspace.pk}/workspace/")
    assert invitee.locator("h1").inner_text() == "Studio"
    screenshot("team-invitee-landed", target=invitee)
    invitee_context.close()

    joined = Membership.objects.get(workspace=workspace, user__email="invitee@example.test")
    seat = Seat.objects.get(membership=joined)  # the fourth member holds a paid seat
    # The daily job charges the seat the day after.
    assert run_seat_sweeps(now=timezone.now() + timedelta(days=1))["seat_invoices"] == 1

    # The admin opens the removal modal and reads the credit before confirming.
    page.reload()
    assert "4 sur 4 UTILISATEURS" in page.locator("#seat-counter").inner_text()
    row = page.locator(f"#member-{joined.pk}")
    assert "Payant" in row.inner_text()
    row.get_by_role("link", name="Supprimer").click()
    dialog = page.locator("dialog#remove-member-modal")
    dialog.wait_for(state="visible")
    # The annual period started on the 1st of this month, so the current month is used and
    # the 11 months after it are credited: 89,99 € × 11/12 = 82,491… → 82,49 € HT, + VAT
    # 16,498 € → 16,50 € = 98,99 €.
    assert subscription.current_period_start.date() == start
    assert seat.price_cents == 8_999
    credit = 9_899
    assert dialog.locator(".removal-credit").get_attribute("data-credit-cents") == "9899"
    assert "L’espace recevra un crédit au prorata de 98,99 € TVA comprise" in dialog.inner_text().replace(
        "\u00a0", " "
    )
    assert "11 mois sur 12 × 89,99" in dialog.inner_text()
    screenshot("team-remove-modal")
    dialog.get_by_role("button", name="Supprimer de l’équipe").click()
    page.wait_for_selector("text=invitee@example.test a été supprimé de l’équipe.")
    screenshot("team-removed")

    assert not Membership.objects.filter(pk=joined.pk).exists()
    seat.refresh_from_db()
    assert seat.status == SeatStatus.REMOVED
    assert account_balance_cents(workspace) == credit
    assert "3 sur 3 UTILISATEURS" in page.locator("#seat-counter").inner_text()

import pytest

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from workspaces.models import Invitation, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_signs_in_invites_and_switches_language(page, screenshot):
    owner = MembershipFactory(
        role=Role.OWNER, workspace__name="Acme", user=UserFactory(email="boss@example.test")
    )
    workspace = owner.workspace

    sign_in(page, "boss@example.test", PASSWORD)
    page.wait_for_url(f"**/{workspace.pk}/workspace/")
    assert page.locator("h1").inner_text() == "Acme"
    assert page.locator(".sidebar").get_by_text("Membres").is_visible()
    screenshot("foundation-home-fr")

    page.get_by_role("link", name="Membres").click()
    page.fill("input[name=email]", "newcomer@example.test")
    page.select_option("select[name=role]", "member")
    page.get_by_role("button", name="Envoyer l’invitation").click()
    page.wait_for_selector("text=Invitation envoyée à newcomer@example.test.")
    assert Invitation.objects.filter(workspace=workspace, email="newcomer@example.test").exists()
    screenshot("foundation-members-fr")

    page.locator(".sidebar select[name=language]").select_option("en")
    page.wait_for_selector("text=Pending invitations")
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot("foundation-members-en")


def test_guest_is_refused_the_member_list_with_a_message(page):
    guest = MembershipFactory(role=Role.GUEST, user=UserFactory(email="guest@example.test"))
    sign_in(page, "guest@example.test", PASSWORD)
    page.wait_for_url(f"**/{guest.workspace.pk}/workspace/")
    response = page.goto(f"/{guest.workspace.pk}/workspace/members/")
    assert response.status == 403
    assert "Votre rôle ne donne pas accès à la liste des membres." in page.content()

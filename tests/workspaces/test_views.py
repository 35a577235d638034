import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from teams import services
from tests.factories import PASSWORD, UserFactory
from workspaces.models import Invitation, Membership, Role, Workspace

pytestmark = pytest.mark.django_db


def test_signup_requires_email_verification_then_logs_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "newbie@example.test",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1] if "testserver" in link else "/" + link.split("/", 3)[3]
    confirm = client.post(path)
    assert confirm.status_code == 302
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == "/workspaces/"
    assert "Vos espaces de travail" in home.content.decode()


def test_login_with_email_and_password(client):
    user = UserFactory(email="someone@example.test")
    response = client.post("/accounts/login/", {"login": "someone@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_a_wrong_password_is_refused(client):
    UserFactory(email="someone@example.test")
    response = client.post("/accounts/login/", {"login": "someone@example.test", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email(client):
    UserFactory(email="forgot@example.test")
    response = client.post("/accounts/password/reset/", {"email": "forgot@example.test"})
    assert response.status_code == 302
    assert mail.outbox[0].to == ["forgot@example.test"]


def test_signed_in_user_creates_a_workspace_and_becomes_owner(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/workspaces/", {"name": "Nova", "country": "fr"})
    workspace = Workspace.objects.get(name="Nova")
    assert response.status_code == 302
    assert response["Location"] == f"/{workspace.pk}/workspace/"
    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    page = client.get(response["Location"])
    assert "Nova" in page.content.decode()
    assert "Propriétaire" in page.content.decode()


def test_workspace_creation_with_bad_input_changes_nothing(client):
    client.force_login(UserFactory())
    response = client.post("/workspaces/", {"name": "   ", "country": "France"})
    assert response.status_code == 400
    assert not Workspace.objects.exists()


def test_switcher_lists_only_my_workspaces(client, workspace, owner, other_workspace):
    client.force_login(owner.user)
    body = client.get(f"/{workspace.pk}/workspace/").content.decode()
    assert "Acme Test" in body
    assert "Other Corp" not in body


def test_admin_invites_from_the_members_page(client, workspace, admin):
    client.force_login(admin.user)
    response = client.post(
        f"/{workspace.pk}/workspace/members/invite/", {"email": "fresh@example.test", "role": Role.MEMBER}
    )
    assert response.status_code == 302
    page = client.get(f"/{workspace.pk}/workspace/members/").content.decode()
    assert "fresh@example.test" in page
    assert "Invitations en attente" in page


def test_inviting_with_a_bad_address_shows_the_error(client, workspace, admin):
    client.force_login(admin.user)
    response = client.post(
        f"/{workspace.pk}/workspace/members/invite/", {"email": "not-an-email", "role": "member"}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_new_user_signs_up_through_the_link_verifies_the_address_and_joins(client, workspace, owner):
    """Opening the link verifies nothing: the new account confirms its address by the
    email every sign-up gets, is then signed in and brought back to the invitation
    (docs/security.md#invitations)."""
    invitation = services.invitation_create(
        workspace=workspace, actor=owner, email="invitee@example.test", role=Role.MEMBER
    )
    link = f"/invitations/{invitation.token}/"
    page = client.get(link)
    assert page.status_code == 200
    assert "Rejoindre Acme Test" in page.content.decode()
    mail.outbox.clear()
    signup = client.post(
        f"/accounts/signup/?next={link}",
        {
            "email": "invitee@example.test",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
            "next": link,
        },
    )
    assert signup["Location"] == "/accounts/confirm-email/"
    assert EmailAddress.objects.get(email="invitee@example.test").verified is False
    assert "Créer un compte" in client.post(link).content.decode()  # not signed in yet: nothing accepted
    assert not Membership.objects.filter(workspace=workspace, user__email="invitee@example.test").exists()

    (confirmation,) = mail.outbox
    confirm_url = re.search(r"http://\S+/accounts/confirm-email/\S+/", confirmation.body).group(0)
    confirmed = client.post(confirm_url.split("testserver", 1)[-1].split("8000", 1)[-1])
    assert confirmed["Location"] == link
    assert EmailAddress.objects.get(email="invitee@example.test").verified is True
    accepted = client.post(link)
    assert accepted["Location"] == f"/{workspace.pk}/workspace/"
    assert Membership.objects.get(workspace=workspace, user__email="invitee@example.test").role == Role.MEMBER


def test_existing_user_accepts_after_signing_in(client, workspace, owner):
    user = UserFactory(email="known@example.test")
    invitation = services.invitation_create(
        workspace=workspace, actor=owner, email=user.email, role=Role.ADMIN
    )
    client.force_login(user)
    response = client.post(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.ADMIN


def test_reused_invitation_shows_a_clear_message(client, workspace, owner):
    user = UserFactory(email="known@example.test")
    invitation = services.invitation_create(
        workspace=workspace, actor=owner, email=user.email, role=Role.MEMBER
    )
    services.invitation_accept(token=invitation.token, user=user)
    client.force_login(user)
    response = client.post(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "Cette invitation a déjà été utilisée." in response.content.decode()
    assert Membership.objects.filter(workspace=workspace, user=user).count() == 1


def test_expired_invitation_shows_a_clear_message(client, workspace, owner):
    invitation = services.invitation_create(
        workspace=workspace, actor=owner, email="late@example.test", role=Role.MEMBER
    )
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        response = client.get(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "Cette invitation a expiré" in response.content.decode()


def test_unknown_invitation_token_is_404(client):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 404
    assert "lien d’invitation n’est pas valide" in response.content.decode()


def test_invitation_token_with_a_nul_character_is_404(client, workspace, owner):
    """PostgreSQL refuses NUL in text: a crafted link is an unknown invitation, not a crash."""
    for method in (client.get, client.post):
        response = method("/invitations/abc%00def/")
        assert response.status_code == 404
        assert "lien d’invitation n’est pas valide" in response.content.decode()


def test_english_is_available(client, workspace, owner):
    client.force_login(owner.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get(f"/{workspace.pk}/workspace/members/").content.decode()
    assert "Pending invitations" not in body  # none pending yet
    assert "Invite someone" in body
    assert 'lang="en"' in body


def test_member_sees_a_read_only_member_list(client, workspace, member):
    client.force_login(member.user)
    body = client.get(f"/{workspace.pk}/workspace/members/").content.decode()
    assert member.user.email in body
    assert "Inviter quelqu’un" not in body
    assert "Changer le rôle" not in body


@pytest.mark.parametrize("country", ["ZZ", "EU", "QQ", "F1"])
def test_workspace_creation_refuses_an_unknown_country_code(client, country):
    client.force_login(UserFactory())
    response = client.post("/workspaces/", {"name": "Nova", "country": country})
    assert response.status_code == 400
    assert "Utilisez un code pays à deux lettres" in response.content.decode()
    assert not Workspace.objects.exists()


def test_workspace_creation_accepts_a_real_country_code(client):
    client.force_login(UserFactory())
    response = client.post("/workspaces/", {"name": "Nova", "country": "de"})
    assert response.status_code == 302
    assert Workspace.objects.get(name="Nova").country == "DE"

"""Invitation links: the token is kept hashed, works once, and opening it changes nothing
until the invitee signs in or up (docs/security.md#invitations)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from teams import services
from tests.factories import UserFactory
from workspaces import errors
from workspaces.models import Invitation, Role
from workspaces.selectors import invitation_by_token

pytestmark = pytest.mark.django_db


def _invite(workspace, owner, email="invitee@example.test"):
    return services.invitation_create(workspace=workspace, actor=owner, email=email, role=Role.MEMBER)


@pytest.mark.django_db(transaction=True)
def test_the_database_keeps_only_the_tokens_hash_and_the_email_carries_the_link(workspace, owner):
    invitation = _invite(workspace, owner)
    token = invitation.token

    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert f"/invitations/{token}/" in mail.outbox[-1].body
    assert Invitation.objects.get(pk=invitation.pk).token == ""  # never read back
    assert invitation_by_token(token).pk == invitation.pk
    assert invitation_by_token(row["token_hash"]) is None  # the hash is no link


def test_a_resent_invitation_has_a_new_link_and_the_old_one_stops_working(client, workspace, owner):
    invitation = _invite(workspace, owner)
    old_token = invitation.token
    renewed = services.invitation_resend(invitation=invitation, actor=owner)

    assert renewed.token != old_token
    assert client.get(f"/invitations/{old_token}/").status_code == 404
    assert client.get(f"/invitations/{renewed.token}/").status_code == 200


def test_a_link_works_once(client, workspace, owner):
    invitation = _invite(workspace, owner, "once@example.test")
    services.invitation_accept(token=invitation.token, user=UserFactory(email="once@example.test"))

    with pytest.raises(errors.InvitationAlreadyUsed):
        services.invitation_accept(token=invitation.token, user=UserFactory(email="ONCE@example.test"))
    assert client.get(f"/invitations/{invitation.token}/").status_code == 410


def test_opening_a_link_anonymously_marks_no_address_verified(client, workspace, owner):
    invitation = _invite(workspace, owner)
    page = client.get(f"/invitations/{invitation.token}/")

    assert page.status_code == 200
    # allauth's "this address is already verified" stash is not set by the link.
    assert "account_verified_email" not in client.session


def test_the_admin_does_not_show_the_token_or_its_hash(client, workspace, owner):
    invitation = _invite(workspace, owner)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"/admin/workspaces/invitation/{invitation.pk}/change/").content.decode()
    listing = client.get("/admin/workspaces/invitation/").content.decode()
    stored = Invitation.objects.get(pk=invitation.pk).token_hash
    assert "invitee@example.test" in page
    for html in (page, listing):
        assert invitation.token not in html
        assert stored not in html


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_existing_tokens_in_place_so_sent_links_keep_working(workspace, owner):
    executor = MigrationExecutor(connection)
    executor.migrate([("workspaces", "0002_billing_time_zone")])
    old_apps = executor.loader.project_state([("workspaces", "0002_billing_time_zone")]).apps
    OldInvitation = old_apps.get_model("workspaces", "Invitation")
    now = timezone.now()
    OldInvitation.objects.create(
        workspace_id=workspace.pk,
        email="sent@example.test",
        role="member",
        token="a-link-sent-before-the-upgrade",
        created_at=now,
        expires_at=now + timedelta(days=7),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    invitation = invitation_by_token("a-link-sent-before-the-upgrade")
    assert invitation is not None
    assert invitation.email == "sent@example.test"
    assert invitation.token_hash == hashlib.sha256(b"a-link-sent-before-the-upgrade").hexdigest()

"""The audit trail (docs/rules/operators.md#audit-trail): workspace admins' writes each
leave one entry with actor, before/after and the client's address, and the database
refuses to change or delete an entry."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import ActorKind, AuditEntry, Kind
from audit.services import record
from billing.services import lifecycle
from credits.apikeys import api_key_create
from teams.services import member_add, membership_change_role, membership_remove, ownership_transfer
from tests.factories import MembershipFactory, UserFactory, subscribe
from tests.subscriptions.conftest import at
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def test_the_database_refuses_to_update_or_delete_an_entry(workspace, owner):
    entry = record(kind=Kind.MEMBER_REMOVED, workspace=workspace, actor=owner.user, reason="left the team")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="nothing happened")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditentry")

    entry.refresh_from_db()
    assert entry.reason == "left the team"
    assert AuditEntry.objects.count() == 1


def test_a_role_change_names_the_admin_the_member_and_both_roles(workspace, owner):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER, user=UserFactory(email="zoe@acme.test"))

    membership_change_role(membership=member, actor=owner, role=Role.ADMIN, now=at(2026, 4, 2, 10))

    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.actor_kind, entry.actor_id, entry.actor_email) == (
        Kind.MEMBER_ROLE_CHANGED, ActorKind.USER, owner.user_id, owner.user.email,
    )  # fmt: skip
    assert (entry.workspace_id, entry.object_repr) == (workspace.pk, "zoe@acme.test")
    assert (entry.before, entry.after) == ({"role": "member"}, {"role": "admin"})
    assert entry.created_at == at(2026, 4, 2, 10)


def test_removal_ownership_transfer_and_api_keys_are_recorded(billed_workspace, owner):
    admin = MembershipFactory(
        workspace=billed_workspace, role=Role.ADMIN, user=UserFactory(email="ada@acme.test")
    )
    leaving = MembershipFactory(
        workspace=billed_workspace, role=Role.MEMBER, user=UserFactory(email="leo@acme.test")
    )

    membership_remove(membership=leaving, actor=owner, now=at(2026, 4, 2))
    key, _plain = api_key_create(workspace=billed_workspace, actor=owner, name="CI", now=at(2026, 4, 2))
    from credits.apikeys import api_key_revoke

    api_key_revoke(workspace=billed_workspace, actor=owner, api_key_id=key.pk, now=at(2026, 4, 3))
    ownership_transfer(workspace=billed_workspace, actor=owner, new_owner=admin)

    rows = list(AuditEntry.objects.order_by("id").values_list("kind", "object_repr", "before", "after"))
    assert rows == [
        (Kind.MEMBER_REMOVED, "leo@acme.test", {"role": "member"}, {}),
        (Kind.API_KEY_CREATED, f"CI ({key.prefix})", {}, {"name": "CI"}),
        (
            Kind.API_KEY_REVOKED,
            f"CI ({key.prefix})",
            {"revoked_at": None},
            {"revoked_at": "2026-04-03T00:00:00Z"},
        ),
        (
            Kind.OWNERSHIP_TRANSFERRED,
            "ada@acme.test",
            {"owner": owner.user.email},
            {"owner": "ada@acme.test"},
        ),
    ]


def test_a_cancellation_records_the_plan_before_after_and_the_reason(billed_workspace, owner):
    subscribe(billed_workspace, owner, "business", now=at(2026, 4, 1))
    start = AuditEntry.objects.count()
    preview = lifecycle.preview_cancel(
        workspace=billed_workspace, reason="too_expensive", now=at(2026, 4, 10)
    )

    lifecycle.apply_cancel(
        workspace=billed_workspace, actor=owner, reason="too_expensive", preview=preview, now=at(2026, 4, 10)
    )

    entry = AuditEntry.objects.order_by("id")[start]
    assert (entry.kind, entry.actor_id, entry.object_repr, entry.reason) == (
        Kind.SUBSCRIPTION_CHANGED, owner.user_id, "cancel", "too_expensive",
    )  # fmt: skip
    assert (entry.before["plan"], entry.before["auto_renew"]) == ("business", True)
    assert (entry.after["plan"], entry.after["auto_renew"], entry.after["total_due_now_cents"]) == (
        "business", False, 0,
    )  # fmt: skip


def test_invitations_sent_revoked_and_accepted_are_recorded(billed_workspace, owner):
    from teams.services import invitation_accept, invitation_create, invitation_revoke

    kept = invitation_create(workspace=billed_workspace, actor=owner, email="Ana@Acme.test", role=Role.MEMBER)
    dropped = invitation_create(
        workspace=billed_workspace, actor=owner, email="bob@acme.test", role=Role.ADMIN
    )
    invitation_revoke(invitation=dropped, actor=owner)
    ana = UserFactory(email="ana@acme.test")
    invitation_accept(token=kept.token, user=ana, now=at(2026, 4, 2))

    rows = list(
        AuditEntry.objects.order_by("id").values_list("kind", "actor_id", "object_repr", "before", "after")
    )
    assert rows == [
        (Kind.MEMBER_INVITED, owner.user_id, "ana@acme.test", {}, {"role": "member"}),
        (Kind.MEMBER_INVITED, owner.user_id, "bob@acme.test", {}, {"role": "admin"}),
        (Kind.INVITATION_REVOKED, owner.user_id, "bob@acme.test", {"role": "admin"}, {}),
        (Kind.MEMBER_JOINED, ana.pk, "ana@acme.test", {}, {"role": "member"}),
    ]


def test_a_renewal_by_the_scheduled_job_is_recorded_as_the_systems(billed_workspace, owner):
    from billing.services.renewals import renew_due_subscriptions

    subscribe(billed_workspace, owner, "business", now=at(2026, 3, 9, 23))  # 10 March in Paris
    start = AuditEntry.objects.count()

    renew_due_subscriptions(now=at(2026, 4, 9, 22, 5))

    [entry] = AuditEntry.objects.order_by("id")[start:]
    assert (entry.kind, entry.actor_kind, entry.actor_id, entry.object_repr) == (
        Kind.SUBSCRIPTION_CHANGED, ActorKind.SYSTEM, None, "renew",
    )  # fmt: skip
    assert entry.before == {"period_end": "2026-04-09T22:00:00+00:00"}
    assert entry.after == {"period_end": "2026-05-09T22:00:00+00:00", "total_cents": 2_400, "currency": "EUR"}


def test_a_member_added_directly_is_recorded_with_the_admin_who_added_them(billed_workspace, owner):
    user = UserFactory(email="lea@acme.test")

    member_add(workspace=billed_workspace, actor=owner, user=user, role=Role.ADMIN, now=at(2026, 4, 2))

    [entry] = AuditEntry.objects.filter(workspace=billed_workspace, kind=Kind.MEMBER_JOINED)
    assert (entry.actor_kind, entry.actor_id, entry.object_repr, entry.after) == (
        ActorKind.USER, owner.user_id, "lea@acme.test", {"role": Role.ADMIN},
    )  # fmt: skip

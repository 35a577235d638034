"""Workspace settings and seat billing periods in the audit trail
(docs/rules/operators.md#audit-trail): each change made on the Settings page — the
billing time zone chosen, each billing detail — and each change of a seat's billing
period (an admin's request, its cancellation, the daily job applying it) writes one
entry with the values that changed, before and after, and who made it. A save that
changes nothing, or a refused one, writes none."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from audit.models import ActorKind, AuditEntry, Kind
from billing.seat_sweeps import run_seat_sweeps
from billing.services.billing_time_zone import billing_time_zone_change, billing_time_zone_changes_apply
from domain.periods import Interval
from invoices.models import BillingDetails
from subscriptions.models import Subscription
from teams import errors as seat_errors
from teams import services as teams
from teams.models import Seat
from tests.factories import MembershipFactory, SubscriptionRowFactory, UserFactory
from tests.teams.conftest import MARCH_1, add_members, join, paris, pro_annual
from tests.teams.conftest import at as at_nine
from workspaces import errors
from workspaces.models import Role, Workspace

pytestmark = pytest.mark.django_db

__all__ = ["add_members", "pro_annual"]  # the teams fixtures the seat tests use

MARCH_10 = datetime(2026, 3, 10, 9, tzinfo=UTC)

BILLING_DETAILS = {
    "legal_name": "Acme SAS",
    "street": "1 rue de la Paix",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
    "billing_email": "compta@acme.test",
    "extra_emails": "",
    "vat_number": "",
    "registration_number": "",
    "purchase_order": "",
    "language": "fr",
}


def settings_entries(workspace) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(workspace=workspace, kind=Kind.WORKSPACE_SETTINGS_CHANGED).order_by("id")
    )


def seat_entries(workspace) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(workspace=workspace, kind=Kind.SEAT_BILLING_PERIOD_CHANGED).order_by("id")
    )


def post_details(client, membership, data):
    client.force_login(membership.user)
    url = reverse("workspace_billing_details", kwargs={"workspace_id": membership.workspace_id})
    return client.post(url, data)


def choose_zone(client, membership, zone: str):
    client.force_login(membership.user)
    url = reverse("workspace_billing_time_zone", args=[membership.workspace_id])
    with time_machine.travel(MARCH_10, tick=False):
        return client.post(url, {"billing_time_zone": zone})


@pytest.fixture
def monthly(workspace):
    """Pro monthly, 1 March to 1 April 2026 (the row alone)."""
    return SubscriptionRowFactory(workspace=workspace, interval="month", start=date(2026, 3, 1), card=False)


@pytest.fixture
def ada(workspace) -> object:
    return MembershipFactory(workspace=workspace, role=Role.ADMIN, user=UserFactory(email="ada@acme.test"))


# --- the billing time zone -----------------------------------------------------------------------


def test_choosing_a_billing_time_zone_records_the_zone_and_the_day_it_applies_from(
    client, workspace, monthly, ada
):
    assert choose_zone(client, ada, "America/New_York").status_code == 302

    [entry] = settings_entries(workspace)
    assert (entry.actor_kind, entry.actor_id, entry.actor_email) == (
        ActorKind.USER,
        ada.user_id,
        "ada@acme.test",
    )
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "workspace",
        str(workspace.pk),
        "Acme Test",
    )
    assert entry.before == {"billing_time_zone": "Europe/Paris", "billing_time_zone_from": None}
    assert entry.after == {"billing_time_zone": "America/New_York", "billing_time_zone_from": "2026-04-01"}
    assert entry.created_at == MARCH_10


def test_the_sweep_putting_the_chosen_zone_in_force_is_recorded_as_the_systems(workspace, owner, monthly):
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Asia/Tokyo", now=MARCH_10)
    april = datetime(2026, 4, 1, 12, tzinfo=UTC)

    assert billing_time_zone_changes_apply(now=april) == 1
    assert billing_time_zone_changes_apply(now=april) == 0  # applied once: nothing more recorded

    chose, applied = settings_entries(workspace)
    assert (applied.actor_kind, applied.actor_id) == (ActorKind.SYSTEM, None)
    assert (applied.before, applied.after, applied.created_at) == (
        {"billing_time_zone_in_force": "Europe/Paris"}, {"billing_time_zone_in_force": "Asia/Tokyo"}, april,
    )  # fmt: skip


def test_choosing_the_same_zone_again_records_nothing_and_going_back_records_the_cancellation(
    workspace, owner, monthly
):
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Asia/Tokyo", now=MARCH_10)
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Asia/Tokyo", now=MARCH_10)
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Europe/Paris", now=MARCH_10)
    billing_time_zone_change(workspace=workspace, actor=owner, zone="Europe/Paris", now=MARCH_10)

    chose, cancelled = settings_entries(workspace)
    assert (chose.before, chose.after) == (
        {"billing_time_zone": "Europe/Paris", "billing_time_zone_from": None},
        {"billing_time_zone": "Asia/Tokyo", "billing_time_zone_from": "2026-04-01"},
    )
    assert (cancelled.actor_id, cancelled.before, cancelled.after) == (
        owner.user_id,
        {"billing_time_zone": "Asia/Tokyo", "billing_time_zone_from": "2026-04-01"},
        {"billing_time_zone": "Europe/Paris", "billing_time_zone_from": None},
    )


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_a_zone_refused_to_a_role_or_unknown_records_nothing(client, workspace, owner, monthly, role):
    member = MembershipFactory(workspace=workspace, role=role)

    assert choose_zone(client, member, "America/New_York").status_code == 403
    assert choose_zone(client, owner, "Mars/Olympus_Mons").status_code == 400
    with pytest.raises(errors.DomainError):
        billing_time_zone_change(workspace=workspace, actor=owner, zone="Paris", now=MARCH_10)

    assert settings_entries(workspace) == []
    fresh = Workspace.objects.get(pk=workspace.pk)
    assert (fresh.billing_time_zone, fresh.billing_time_zone_next) == ("Europe/Paris", "")


# --- billing details -----------------------------------------------------------------------------


def test_the_first_save_of_the_billing_details_records_what_it_set(client, workspace, owner):
    Workspace.objects.filter(pk=workspace.pk).update(billing_email="owner@acme.test")

    assert post_details(client, owner, BILLING_DETAILS).status_code == 302

    [entry] = settings_entries(workspace)
    assert (entry.actor_id, entry.object_type, entry.object_repr) == (
        owner.user_id,
        "billing_details",
        "Acme Test",
    )
    assert entry.before == {
        "legal_name": "", "street": "", "postal_code": "", "city": "", "billing_email": "owner@acme.test",
    }  # fmt: skip
    assert entry.after == {
        "legal_name": "Acme SAS", "street": "1 rue de la Paix", "postal_code": "75002", "city": "Paris",
        "billing_email": "compta@acme.test",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("legal_name", "Acme Holding SAS", "Acme Holding SAS"),
        ("street", "2 avenue de l’Opéra\nBâtiment B", "2 avenue de l’Opéra\nBâtiment B"),
        ("postal_code", "69001", "69001"),
        ("city", "Lyon", "Lyon"),
        ("billing_email", "factures@acme.test", "factures@acme.test"),
        ("extra_emails", "dg@acme.test\ncfo@acme.test", "dg@acme.test\ncfo@acme.test"),
        ("vat_number", "68900000001", "FR68900000001"),
        ("registration_number", "900 000 001 00017", "90000000100017"),
        ("purchase_order", "PO-2026-9", "PO-2026-9"),
        ("language", "en", "en"),
    ],
)
def test_each_billing_detail_changed_records_its_values_before_and_after(
    client, workspace, owner, ada, field, value, stored
):
    assert post_details(client, owner, BILLING_DETAILS).status_code == 302
    already = len(settings_entries(workspace))

    assert post_details(client, ada, {**BILLING_DETAILS, field: value}).status_code == 302

    [entry] = settings_entries(workspace)[already:]
    assert (entry.actor_id, entry.actor_email) == (ada.user_id, "ada@acme.test")
    assert (entry.before, entry.after) == ({field: BILLING_DETAILS[field]}, {field: stored})


def test_moving_abroad_records_the_country_and_the_vat_number_together(client, workspace, owner):
    post_details(client, owner, {**BILLING_DETAILS, "vat_number": "FR68900000001"})
    already = len(settings_entries(workspace))

    post_details(client, owner, {**BILLING_DETAILS, "country": "DE", "vat_number": "DE 136 695 976"})

    [entry] = settings_entries(workspace)[already:]
    assert entry.before == {"country": "FR", "vat_number": "FR68900000001"}
    assert entry.after == {"country": "DE", "vat_number": "DE136695976"}


def test_saving_the_billing_details_unchanged_records_nothing(client, workspace, owner):
    post_details(client, owner, BILLING_DETAILS)
    already = len(settings_entries(workspace))

    assert post_details(client, owner, BILLING_DETAILS).status_code == 302
    # The same details typed differently are the same details.
    assert post_details(client, owner, {**BILLING_DETAILS, "city": " Paris "}).status_code == 302

    assert len(settings_entries(workspace)) == already


def test_refused_billing_details_record_nothing_and_change_nothing(client, workspace, owner):
    post_details(client, owner, BILLING_DETAILS)
    already = len(settings_entries(workspace))
    saved = BillingDetails.objects.filter(workspace=workspace).values().get()

    refused = post_details(
        client, owner, {**BILLING_DETAILS, "legal_name": "Other", "vat_number": "FR00000000000"}
    )
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    forbidden = post_details(client, member, {**BILLING_DETAILS, "legal_name": "Other"})

    assert (refused.status_code, forbidden.status_code) == (400, 403)
    assert len(settings_entries(workspace)) == already
    assert BillingDetails.objects.filter(workspace=workspace).values().get() == saved


# --- seat billing periods ------------------------------------------------------------------------


@pytest.fixture
def team(workspace, owner, add_members, pro_annual):
    """Pro annual from 1 January 2026; paid@team.test joined on 1 March on an annual seat,
    invoiced by the seat job on 2 March."""
    add_members(2)
    with time_machine.travel(at_nine(MARCH_1), tick=False):
        paid = join(workspace, owner, "paid@team.test")
    run_seat_sweeps(now=at_nine(date(2026, 3, 2)))
    return paid


def _set(workspace, actor, membership, interval, *, now):
    return teams.seat_billing_period_set(
        workspace=workspace, actor=actor, membership=membership, interval=interval, now=now
    )


def test_an_admins_request_is_recorded_and_the_job_applying_it_is_recorded_as_the_systems(
    workspace, team, ada
):
    seat = Seat.objects.get(user_email="paid@team.test")

    _set(workspace, ada, team, Interval.MONTH, now=at_nine(date(2026, 4, 15)))

    [requested] = seat_entries(workspace)
    assert (requested.actor_kind, requested.actor_id, requested.actor_email) == (
        ActorKind.USER, ada.user_id, "ada@acme.test",
    )  # fmt: skip
    assert (requested.object_type, requested.object_id, requested.object_repr) == (
        "seat", str(seat.pk), "paid@team.test",
    )  # fmt: skip
    assert requested.before == {"next_billing_period": "", "next_billing_period_from": None}
    assert requested.after == {"next_billing_period": "month", "next_billing_period_from": "2026-05-01"}
    assert requested.created_at == at_nine(date(2026, 4, 15))

    run_seat_sweeps(now=at_nine(date(2026, 4, 30)))  # not due yet
    assert len(seat_entries(workspace)) == 1
    run_seat_sweeps(now=at_nine(date(2026, 5, 1)))
    run_seat_sweeps(now=at_nine(date(2026, 5, 1), 10))  # applied once

    _, applied = seat_entries(workspace)
    assert (applied.actor_kind, applied.actor_id, applied.actor_email) == (ActorKind.SYSTEM, None, "")
    assert applied.object_repr == "paid@team.test"
    assert applied.before == {
        "billing_period": "year", "next_billing_period": "month", "next_billing_period_from": "2026-05-01",
    }  # fmt: skip
    assert applied.after == {
        "billing_period": "month",
        "next_billing_period": "",
        "next_billing_period_from": None,
    }
    assert Seat.objects.get(pk=seat.pk).interval == Interval.MONTH


def test_changing_back_before_it_applies_records_the_cancellation_and_a_new_choice_replaces_it(
    workspace, owner, team
):
    _set(workspace, owner, team, Interval.MONTH, now=at_nine(date(2026, 4, 15)))
    _set(workspace, owner, team, Interval.MONTH, now=at_nine(date(2026, 4, 15), 10))  # the same: nothing
    _set(workspace, owner, team, Interval.WEEK, now=at_nine(date(2026, 4, 16)))
    _set(workspace, owner, team, Interval.YEAR, now=at_nine(date(2026, 4, 17)))

    requested, replaced, cancelled = seat_entries(workspace)
    assert requested.after == {"next_billing_period": "month", "next_billing_period_from": "2026-05-01"}
    assert (replaced.before, replaced.after) == (
        {"next_billing_period": "month"},
        {"next_billing_period": "week"},
    )
    assert (cancelled.actor_id, cancelled.before, cancelled.after) == (
        owner.user_id,
        {"next_billing_period": "week", "next_billing_period_from": "2026-05-01"},
        {"next_billing_period": "", "next_billing_period_from": None},
    )
    run_seat_sweeps(now=at_nine(date(2026, 5, 1)))
    assert len(seat_entries(workspace)) == 3


def test_a_waiting_switch_the_job_drops_with_its_subscription_is_recorded_as_the_systems(
    workspace, owner, team
):
    _set(workspace, owner, team, Interval.MONTH, now=at_nine(date(2026, 4, 15)))
    # Cancelled, the subscription ends when the switch would apply: the seat ends with it.
    Subscription.objects.filter(workspace=workspace).update(
        auto_renew=False, current_period_end=paris(2026, 5, 1)
    )

    assert teams.seat_period_changes_apply(workspace_id=workspace.pk, now=at_nine(date(2026, 5, 1))) == 1

    _, dropped = seat_entries(workspace)
    assert (dropped.actor_kind, dropped.before, dropped.after) == (
        ActorKind.SYSTEM,
        {"next_billing_period": "month", "next_billing_period_from": "2026-05-01"},
        {"next_billing_period": "", "next_billing_period_from": None},
    )
    assert Seat.objects.get(user_email="paid@team.test").interval == Interval.YEAR


def test_a_seat_replanned_on_the_day_it_was_taken_records_its_new_period(
    workspace, owner, add_members, pro_annual
):
    add_members(2)
    with time_machine.travel(at_nine(MARCH_1), tick=False):
        paid = join(workspace, owner, "weekly@team.test")

    _set(workspace, owner, paid, Interval.WEEK, now=at_nine(MARCH_1, 10))

    [entry] = seat_entries(workspace)
    assert (entry.actor_id, entry.object_repr) == (owner.user_id, "weekly@team.test")
    assert (entry.before, entry.after) == ({"billing_period": "year"}, {"billing_period": "week"})


def test_a_refused_or_unchanged_period_records_nothing(workspace, owner, team):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    with pytest.raises(errors.PermissionDenied):
        _set(workspace, member, team, Interval.MONTH, now=at_nine(date(2026, 4, 15)))
    with pytest.raises(seat_errors.UnknownSeatPeriod):
        _set(workspace, owner, team, "fortnight", now=at_nine(date(2026, 4, 15)))
    _set(workspace, owner, team, Interval.YEAR, now=at_nine(date(2026, 4, 15)))

    assert seat_entries(workspace) == []
    seat = Seat.objects.get(user_email="paid@team.test")
    assert (seat.interval, seat.pending_interval, seat.pending_at) == (Interval.YEAR, "", None)


# --- the Activité page ---------------------------------------------------------------------------


def test_the_owner_reads_them_on_the_activity_page_filtered_by_kind_and_in_the_csv(
    client, workspace, owner, monthly, ada
):
    choose_zone(client, ada, "America/New_York")
    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=UTC), tick=False):
        post_details(client, ada, BILLING_DETAILS)
    client.force_login(owner.user)

    everything = client.get(reverse("activity", args=[workspace.pk])).content.decode()
    settings_only = client.get(
        reverse("activity", args=[workspace.pk]), {"kind": Kind.WORKSPACE_SETTINGS_CHANGED}
    ).content.decode()
    seats_only = client.get(
        reverse("activity", args=[workspace.pk]), {"kind": Kind.SEAT_BILLING_PERIOD_CHANGED}
    ).content.decode()
    export = client.get(
        reverse("activity_csv", args=[workspace.pk]), {"kind": Kind.WORKSPACE_SETTINGS_CHANGED}
    )

    options = everything.split('<select name="kind"')[1].split("</select>")[0]
    assert '<option value="workspace.settings_changed">Paramètres de l’espace modifiés</option>' in options
    assert (
        '<option value="seat.billing_period_changed">Période de facturation d’un siège modifiée</option>'
        in options
    )
    rows = settings_only.split("<tbody>")[1]
    assert rows.count("Paramètres de l’espace modifiés") == 2
    assert "billing_time_zone: Europe/Paris → America/New_York" in rows
    assert "legal_name: — → Acme SAS" in rows
    assert "Paramètres de l’espace modifiés" not in seats_only.split("<tbody>")[1]
    lines = list(csv.reader(io.StringIO(export.content.decode())))
    assert [line[3:5] for line in lines[1:]] == [
        ["Paramètres de l’espace modifiés", "workspace.settings_changed"],
        ["Paramètres de l’espace modifiés", "workspace.settings_changed"],
    ]
    assert lines[2][1] == "ada@acme.test"
    assert "billing_time_zone: Europe/Paris → America/New_York" in lines[2][6]


def test_the_seat_period_entries_are_on_the_page_and_another_workspaces_admin_never_sees_them(
    client, workspace, owner, team, other_workspace
):
    _set(workspace, owner, team, Interval.MONTH, now=at_nine(date(2026, 4, 15)))
    run_seat_sweeps(now=at_nine(date(2026, 5, 1)))
    client.force_login(owner.user)

    rows = (
        client.get(reverse("activity", args=[workspace.pk]), {"kind": Kind.SEAT_BILLING_PERIOD_CHANGED})
        .content.decode()
        .split("<tbody>")[1]
    )
    assert rows.count("Période de facturation d’un siège modifiée") == 2
    assert "next_billing_period: — → month" in rows
    assert "billing_period: year → month" in rows
    assert "Système" in rows

    stranger = MembershipFactory(workspace=other_workspace, role=Role.ADMIN)
    client.force_login(stranger.user)
    assert client.get(reverse("activity", args=[workspace.pk])).status_code == 404
    assert client.get(reverse("activity_csv", args=[workspace.pk])).status_code == 404
    for kind in (Kind.SEAT_BILLING_PERIOD_CHANGED, Kind.WORKSPACE_SETTINGS_CHANGED):
        own = client.get(reverse("activity", args=[other_workspace.pk]), {"kind": kind}).content.decode()
        assert "paid@team.test" not in own
        export = client.get(
            reverse("activity_csv", args=[other_workspace.pk]), {"kind": kind}
        ).content.decode()
        assert len(export.splitlines()) == 1

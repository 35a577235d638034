"""The members page per role (acceptance 3), the removal modal, refusals on the page."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from billing.seat_sweeps import run_seat_sweeps
from invoices.selectors import account_balance_cents
from subscriptions.models import Channel
from teams.models import Seat, SeatStatus
from tests.factories import MembershipFactory, SubscriptionRowFactory, UserFactory, subscribe
from tests.teams.conftest import at, paris
from workspaces.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db

JUNE_10 = at(date(2026, 6, 10))


@pytest.fixture
def team(workspace, owner, pro_annual):
    """Pro annual: owner, an admin, a billing admin, a member on an included seat, a guest,
    and paid@ on a paid annual seat invoiced on 2 March."""
    members = {
        Role.ADMIN: MembershipFactory(
            workspace=workspace, role=Role.ADMIN, user=UserFactory(email="admin@team.test")
        ),
        Role.BILLING_ADMIN: MembershipFactory(
            workspace=workspace, role=Role.BILLING_ADMIN, user=UserFactory(email="billing@team.test")
        ),
        Role.GUEST: MembershipFactory(
            workspace=workspace, role=Role.GUEST, user=UserFactory(email="guest@team.test")
        ),
    }
    from teams import services

    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        paid = services.member_add(
            workspace=workspace,
            actor=owner,
            user=UserFactory(email="paid@team.test"),
            role=Role.MEMBER,
            now=at(date(2026, 3, 1)),
        )
    run_seat_sweeps(now=at(date(2026, 3, 2)))
    members[Role.OWNER] = owner
    members["paid"] = paid
    return members


def page(client, workspace):
    return client.get(f"/{workspace.pk}/workspace/members/")


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_manage_the_team(client, workspace, team, role):
    client.force_login(team[role].user)
    with time_machine.travel(JUNE_10, tick=False):
        body = page(client, workspace).content.decode()
    assert "4 sur 4 UTILISATEURS" in body
    assert "Inclus : 3 · achetés à l’avance : 0 · payants : 1" in body
    assert "Inviter quelqu’un" in body
    assert "Changer le rôle" in body
    assert f'hx-get="/{workspace.pk}/workspace/members/{team["paid"].pk}/remove/"' in body
    assert f"/{workspace.pk}/workspace/members/{team[Role.OWNER].pk}/remove/" not in body  # never the owner
    assert 'name="interval"' in body


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER])
def test_other_licensed_roles_read_the_list(client, workspace, team, role):
    user = team[role].user if role in team else MembershipFactory(workspace=workspace, role=role).user
    client.force_login(user)
    response = page(client, workspace)
    body = response.content.decode()
    assert response.status_code == 200
    assert "paid@team.test" in body
    assert "guest@team.test" in body
    assert "Inviter quelqu’un" not in body
    assert "Changer le rôle" not in body
    assert "/remove/" not in body
    assert 'name="interval"' not in body


def test_guests_are_refused_and_strangers_see_nothing(client, workspace, team, other_workspace):
    client.force_login(team[Role.GUEST].user)
    refused = page(client, workspace)
    assert refused.status_code == 403
    assert "Votre rôle ne donne pas accès à la liste des membres." in refused.content.decode()
    client.force_login(Membership.objects.filter(workspace=other_workspace).first().user)
    assert page(client, workspace).status_code == 404


def test_the_list_shows_seat_kinds_and_billing_periods(client, workspace, team):
    client.force_login(team[Role.OWNER].user)
    body = page(client, workspace).content.decode()
    paid_row = body.split(f'id="member-{team["paid"].pk}"')[1].split("</tr>")[0]
    guest_row = body.split(f'id="member-{team[Role.GUEST].pk}"')[1].split("</tr>")[0]
    admin_row = body.split(f'id="member-{team[Role.ADMIN].pk}"')[1].split("</tr>")[0]
    assert "Payant" in paid_row
    assert "89,99\u00a0€" in paid_row
    assert '<option value="year" selected>Annuelle</option>' in paid_row
    assert "renouvellement le 1 janv. 2027" in paid_row
    assert "Aucun siège" in guest_row
    assert "Inclus" in admin_row


def test_the_member_list_has_a_query_budget(client, workspace, team, django_assert_max_num_queries):
    for _ in range(15):
        MembershipFactory(workspace=workspace, role=Role.GUEST)
    client.force_login(team[Role.OWNER].user)
    with django_assert_max_num_queries(20):
        assert page(client, workspace).status_code == 200


def test_the_removal_modal_states_the_credit_then_the_removal_gives_it(client, workspace, team):
    client.force_login(team[Role.ADMIN].user)
    url = f"/{workspace.pk}/workspace/members/{team['paid'].pk}/remove/"
    with time_machine.travel(JUNE_10, tick=False):
        modal = client.get(url, headers={"HX-Request": "true"})
        body = modal.content.decode()
        assert modal.status_code == 200
        assert body.lstrip().startswith("<dialog")
        assert "<html" not in body
        # July to December: 89,99 € × 6/12 = 44,995 € → 45,00 € HT, + VAT 9,00 € = 54,00 €
        credit = 5_400
        assert "Supprimer paid@team.test de l’équipe ?" in body
        assert "Temps non utilisé : 6 mois sur 12 × 89,99\u00a0€ = 45,00\u00a0€" in body
        assert "L’espace recevra un crédit au prorata de <strong>54,00\u00a0€</strong> TVA comprise" in body
        assert f'data-credit-cents="{credit}"' in body

        done = client.post(url)
        followed = client.get(done["Location"]).content.decode()
    assert done.status_code == 302
    assert not Membership.objects.filter(pk=team["paid"].pk).exists()
    assert account_balance_cents(workspace) == credit
    assert (
        "paid@team.test a été supprimé de l’équipe. Crédit au prorata du temps non utilisé : 54,00\u00a0€."
        in followed
    )


def test_without_javascript_the_removal_confirmation_is_a_page(client, workspace, team):
    client.force_login(team[Role.OWNER].user)
    with time_machine.travel(JUNE_10, tick=False):
        response = client.get(f"/{workspace.pk}/workspace/members/{team['paid'].pk}/remove/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert "<dialog" not in body
    assert "45,00\u00a0€" in body
    assert 'method="post"' in body


def test_a_member_posting_a_removal_gets_403_and_nothing_changes(client, workspace, team):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(member.user)
    response = client.post(f"/{workspace.pk}/workspace/members/{team['paid'].pk}/remove/")
    assert response.status_code == 403
    assert Membership.objects.filter(pk=team["paid"].pk).exists()
    assert Seat.objects.get().status == SeatStatus.ACTIVE


def test_removing_the_owner_is_refused_on_the_page(client, workspace, team):
    client.force_login(team[Role.ADMIN].user)
    url = f"/{workspace.pk}/workspace/members/{team[Role.OWNER].pk}/remove/"
    assert client.get(url).status_code == 400
    response = client.post(url)
    assert response.status_code == 400
    assert "Le rôle du propriétaire ne peut être ni modifié ni retiré." in response.content.decode()
    assert Membership.objects.filter(pk=team[Role.OWNER].pk, role=Role.OWNER).exists()


def test_inviting_beyond_50_shows_the_message_and_a_contact_sales_link(client, workspace, team, settings):
    settings.SALES_EMAIL = "ventes@seatcredit.test"
    for _ in range(46):  # 4 members hold a seat already
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(team[Role.OWNER].user)
    response = client.post(
        f"/{workspace.pk}/workspace/members/invite/", {"email": "one-too-many@team.test", "role": Role.MEMBER}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Cette équipe a atteint sa limite de 50 membres." in body
    assert 'href="mailto:ventes@seatcredit.test"' in body
    assert "Contacter notre équipe commerciale" in body
    assert not Invitation.objects.filter(email="one-too-many@team.test").exists()


def test_promoting_a_guest_on_a_full_mobile_team_is_refused_on_the_page(client, workspace, owner, member):
    # Bought in the app stores: no web purchase to go through.
    SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
    MembershipFactory(workspace=workspace, role=Role.MEMBER)
    guest = MembershipFactory(workspace=workspace, role=Role.GUEST)
    client.force_login(owner.user)
    response = client.post(f"/{workspace.pk}/workspace/members/{guest.pk}/role/", {"role": Role.MEMBER})
    assert response.status_code == 400
    assert "passez à un abonnement web" in response.content.decode()
    guest.refresh_from_db()
    assert guest.role == Role.GUEST


def test_an_admin_sets_a_seat_to_monthly_billing(client, workspace, team):
    client.force_login(team[Role.ADMIN].user)
    with time_machine.travel(JUNE_10, tick=False):
        response = client.post(
            f"/{workspace.pk}/workspace/members/{team['paid'].pk}/billing-period/", {"interval": "month"}
        )
        assert response.status_code == 302
        body = client.get(response["Location"]).content.decode()
    assert "Le siège de paid@team.test passera à une facturation mensuelle le 1 juillet 2026." in body
    seat = Seat.objects.get()
    # docs/rules/proration.md#changing-a-seats-period: from 1 July, the end of June.
    assert (seat.interval, seat.pending_interval, seat.pending_at) == (
        "year",
        "month",
        paris(2026, 7, 1),
    )


def test_billing_periods_are_refused_on_a_mobile_subscription(client, workspace, owner):
    # Bought in the app stores: no web purchase to go through.
    SubscriptionRowFactory(workspace=workspace, channel=Channel.MOBILE)
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(owner.user)
    response = client.post(
        f"/{workspace.pk}/workspace/members/{member.pk}/billing-period/", {"interval": "week"}
    )
    assert response.status_code == 400
    assert "ne peut être choisie que sur un abonnement web" in response.content.decode()


def test_an_unknown_period_is_refused(client, workspace, team):
    client.force_login(team[Role.OWNER].user)
    response = client.post(
        f"/{workspace.pk}/workspace/members/{team['paid'].pk}/billing-period/", {"interval": "fortnight"}
    )
    assert response.status_code == 400
    assert "Choisissez une facturation hebdomadaire, mensuelle ou annuelle." in response.content.decode()
    assert Seat.objects.get().interval == "year"


def test_pages_of_one_workspace_never_show_another(client, workspace, team, other_workspace):
    subscribe(other_workspace, plan="pro", interval="year", now=at(date(2026, 1, 1)))
    client.force_login(team[Role.OWNER].user)
    body = page(client, workspace).content.decode()
    for email in Membership.objects.filter(workspace=other_workspace).values_list("user__email", flat=True):
        assert email not in body
    outsider = Membership.objects.filter(workspace=other_workspace, role=Role.MEMBER).first()
    assert client.get(f"/{workspace.pk}/workspace/members/{outsider.pk}/remove/").status_code == 404
    assert client.post(f"/{workspace.pk}/workspace/members/{outsider.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=outsider.pk).exists()


def test_during_a_trial_the_members_page_explains_why_seat_periods_wait(client, workspace, owner):
    for _ in range(3):
        MembershipFactory(workspace=workspace, role=Role.MEMBER)
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        subscribe(workspace, owner, "pro", "month", now=at(date(2026, 3, 1)), trial=True)
    client.force_login(owner.user)

    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        body = page(client, workspace).content.decode()

    assert "Pendant l’essai gratuit, chaque siège suit la période de facturation de l’abonnement" in body
    assert 'name="interval"' not in body


def test_promoting_a_guest_shows_the_seat_it_costs_before_confirming(client, workspace, team):
    """Pro annual from 1 January, its three included seats taken: the guest made a member
    on 10 June takes a paid annual seat, June to December, 7 months of 12 × 89,99 €."""
    guest = team[Role.GUEST]
    client.force_login(team[Role.OWNER].user)
    url = f"/{workspace.pk}/workspace/members/{guest.pk}/role/"

    with time_machine.travel(JUNE_10, tick=False):
        page = client.get(url, {"role": Role.MEMBER})
        guest.refresh_from_db()
        assert guest.role == Role.GUEST  # nothing changed yet
        body = page.content.decode().replace("\u00a0", " ").replace("\u202f", " ")
        assert page.status_code == 200
        assert "un siège payant est ajouté, et 52,49 € HT sont facturés" in body
        assert 'name="role" value="member"' in body
        response = client.post(url, {"role": Role.MEMBER})

    assert response.status_code == 302
    guest.refresh_from_db()
    assert guest.role == Role.MEMBER
    charge = Seat.objects.get(membership=guest).charges.get()
    assert charge.amount_cents == 5_249


def test_a_role_change_that_releases_a_paid_seat_shows_its_credit(client, workspace, team):
    client.force_login(team[Role.OWNER].user)
    url = f"/{workspace.pk}/workspace/members/{team['paid'].pk}/role/"

    with time_machine.travel(JUNE_10, tick=False):
        page = client.get(url, {"role": Role.GUEST})

    body = page.content.decode().replace("\u00a0", " ").replace("\u202f", " ")
    assert page.status_code == 200
    assert "crédit" in body
    assert 'data-credit-cents="' in body
    team["paid"].refresh_from_db()
    assert team["paid"].role == Role.MEMBER


def test_a_role_change_without_money_says_so(client, workspace, team):
    client.force_login(team[Role.OWNER].user)

    page = client.get(
        f"/{workspace.pk}/workspace/members/{team[Role.BILLING_ADMIN].pk}/role/", {"role": Role.ADMIN}
    )

    assert "Ce changement n'a pas d'effet sur votre facture." in page.content.decode().replace("&#x27;", "'")


def test_a_member_cannot_open_a_role_change(client, workspace, team):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    client.force_login(member.user)

    response = client.get(
        f"/{workspace.pk}/workspace/members/{team[Role.GUEST].pk}/role/", {"role": Role.MEMBER}
    )

    assert response.status_code == 403

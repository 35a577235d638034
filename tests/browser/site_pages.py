"""Every page of the product on the demo's data, for the phone-layout and accessibility
browser tests (docs/accessibility.md).

The demo (``seed_demo``, docs/demo.md) is seeded once per module: a transactional test would
empty the database after each test and seeding takes a while, so the module's fixture
seeds the test database (committed), serves it with a live server of its own and empties it
at the end, as a transactional test does. The tests themselves only drive the browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from billing.services import subscription_start_free
from config.reference_data import load_reference_data
from credits.services import allowance_ensure_current
from invoices.models import Invoice
from subscriptions.models import Price
from teams.services.memberships import invitation_create
from tests.factories import VISA_DECLINED, MembershipFactory, save_card, subscribe
from workspaces.demo import DEMO_PASSWORD
from workspaces.models import Membership, Role, Workspace

OWNER = "owner@demo.test"
MEMBER = "member@demo.test"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class SitePage:
    name: str
    url: str
    # What the page shows once ready, the parts htmx loads included.
    ready: str = "h1"
    # The refusals are pages too (403, 404, 410).
    status: int = 200


@dataclass
class Site:
    base_url: str
    acme: Workspace
    # A Free workspace of the same owner with its 10 monthly credits: the out-of-credits modal.
    solo: Workspace
    # Business monthly whose last renewal was declined: "Payer maintenant" and its modal.
    overdue: Workspace
    owner_pages: list[SitePage] = field(default_factory=list)
    member_pages: list[SitePage] = field(default_factory=list)
    anonymous_pages: list[SitePage] = field(default_factory=list)


def _seed(base_url: str) -> Site:
    load_reference_data()
    call_command("seed_demo", stdout=StringIO())
    acme = Workspace.objects.get(name="Acme")
    owner = Membership.objects.get(workspace=acme, role=Role.OWNER)
    invitation = invitation_create(workspace=acme, actor=owner, email="newcomer@demo.test", role=Role.MEMBER)
    solo = MembershipFactory(role=Role.OWNER, workspace__name="Solo", user=owner.user).workspace
    now = timezone.now()
    allowance_ensure_current(workspace=solo, now=now)
    overdue_owner = MembershipFactory(role=Role.OWNER, workspace__name="Overdue", user=owner.user)
    overdue = overdue_owner.workspace
    subscription_start_free(workspace=overdue, now=now - timedelta(days=36))
    subscribe(overdue, overdue_owner, "business", now=now - timedelta(days=35))
    save_card(overdue, overdue_owner, VISA_DECLINED, now=now - timedelta(days=2))
    call_command("billing_tick", "--at", now.isoformat(), stdout=StringIO())
    invoice = Invoice.objects.filter(workspace=acme).order_by("-issued_at", "-id").first()
    assert invoice is not None
    pro = Price.objects.get(plan__code="pro", interval="month", currency="EUR", is_active=True)
    base = f"/{acme.pk}/workspace/"
    subscription = base + "subscription/"
    site = Site(base_url=base_url, acme=acme, solo=solo, overdue=overdue)
    # The pages of the sidebar are added by sidebar_pages(): a new one is covered at once.
    site.owner_pages = [
        SitePage("workspace-list", "/workspaces/"),
        SitePage("overview", subscription, ready=".tab.is-active"),
        SitePage("billing", subscription + "billing/", ready="#invoices-card"),
        SitePage("overdue-overview", f"/{overdue.pk}/workspace/subscription/", ready=".tab.is-active"),
        SitePage("overdue-billing", f"/{overdue.pk}/workspace/subscription/billing/", ready="#invoices-card"),
        SitePage("subscription-settings", subscription + "settings/", ready=".tab.is-active"),
        SitePage("plans", subscription + "plans/"),
        SitePage("plan-preview", subscription + f"plans/preview/?price={pro.pk}"),
        SitePage("customize", subscription + "customize/", ready="#customize-summary"),
        SitePage("annual", subscription + "annual/"),
        SitePage("cancel", subscription + "cancel/"),
        SitePage("invoice-detail", base + f"invoices/{invoice.pk}/"),
        SitePage("card", base + "payment/card/"),
        SitePage("account-email", "/accounts/email/"),
        SitePage("account-password", "/accounts/password/change/"),
        SitePage("sign-out", "/accounts/logout/"),
        SitePage("unknown-workspace", "/00000000-0000-0000-0000-000000000000/workspace/", status=404),
        SitePage("invitation-signed-in", f"/invitations/{invitation.token}/"),
    ]
    site.member_pages = [
        SitePage("member-workspace-list", "/workspaces/"),
        SitePage("member-overview", subscription, ready=".tab.is-active"),
        SitePage("member-subscription-settings", subscription + "settings/", ready=".tab.is-active"),
        SitePage("member-billing-refused", subscription + "billing/", status=403),
    ]
    site.anonymous_pages = [
        SitePage("login", "/accounts/login/"),
        SitePage("signup", "/accounts/signup/"),
        SitePage("password-reset", "/accounts/password/reset/"),
        SitePage("password-reset-sent", "/accounts/password/reset/done/"),
        SitePage("invitation-unknown", "/invitations/no-such-invitation/", status=404),
        SitePage("invitation", f"/invitations/{invitation.token}/"),
    ]
    return site


@contextmanager
def demo_site(request, media_root) -> Iterator[Site]:
    """The demo seeded and served for a module; the database emptied afterwards."""
    django_db_blocker = request.getfixturevalue("django_db_blocker")
    # The test database exists only for a session with django_db tests in it: the modules
    # mark theirs (each test then runs in a transaction of its own, writing nothing).
    marks = getattr(request.module, "pytestmark", [])
    assert any(mark.name == "django_db" for mark in marks), "mark the module's tests django_db"
    request.getfixturevalue("django_db_setup")
    assert connection.settings_dict["NAME"].startswith("test_")
    # A server of the module's own: pytest-django gives any test that uses its live_server
    # fixture a transactional database, emptied after each test.
    server = LiveServer("localhost")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        try:
            yield _seed(server.url)
        finally:
            server.stop()
            # As a transactional test ends: sequences go on, so ids (and the idempotency keys
            # the offline Stripe remembers, "invoice:<id>:attempt:<n>") are never reused.
            call_command("flush", verbosity=0, interactive=False, reset_sequences=False)


def new_context(browser, site: Site, *, viewport: dict[str, int], locale: str = "fr-FR"):
    context = browser.new_context(base_url=site.base_url, locale=locale, viewport=viewport)
    context.set_default_timeout(15_000)
    return context


def sign_in(context, email: str):
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def sidebar_pages(page, site: Site, prefix: str = "") -> list[SitePage]:
    """Every page the sidebar links to, as the signed-in user sees it on Acme."""
    page.goto(f"/{site.acme.pk}/workspace/")
    links = page.locator(".sidebar nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    pages = []
    for href in links:
        slug = href.strip("/").split("/workspace", 1)[1].strip("/").replace("/", "-") or "home"
        pages.append(SitePage(prefix + "nav-" + slug, href))
    return pages


def open_page(page, site_page: SitePage) -> int:
    response = page.goto(site_page.url)
    page.locator(site_page.ready).first.wait_for()
    page.wait_for_load_state("load")
    return response.status if response else 0

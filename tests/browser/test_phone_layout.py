"""Every page on a 390 px phone (docs/accessibility.md#phones): nothing is wider than the
screen, for the owner, a member and a visitor, on the demo's data; a screenshot of each
page in artifacts/phone-<page>.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.site_pages import (
    MEMBER,
    OWNER,
    PHONE,
    SitePage,
    demo_site,
    new_context,
    open_page,
    sidebar_pages,
    sign_in,
)

# django_db: the test database (site_pages.demo_site seeds it for the module).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    with demo_site(request, tmp_path_factory.mktemp("media")) as seeded:
        yield seeded


def _visit_all(page, pages: list[SitePage]) -> dict[str, int]:
    """Each page's overflow in pixels (0 when it fits), its screenshot saved."""
    ARTIFACTS.mkdir(exist_ok=True)
    overflows = {}
    for site_page in pages:
        status = open_page(page, site_page)
        assert status == site_page.status, f"{site_page.name} ({site_page.url}) answered {status}"
        assert page.evaluate("window.innerWidth") == PHONE["width"]
        overflows[site_page.name] = page.evaluate(OVERFLOW)
        page.screenshot(path=str(ARTIFACTS / f"phone-{site_page.name}.png"), full_page=True)
    return overflows


def test_every_page_of_the_owner_fits_a_phone(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    nav = sidebar_pages(page, site)
    # The members, AI actions, API keys and Settings pages are in the owner's sidebar.
    assert {p.name for p in nav} >= {"nav-home", "nav-members", "nav-ai", "nav-api-keys", "nav-settings"}

    overflows = _visit_all(page, nav + site.owner_pages)
    context.close()

    assert {name: px for name, px in overflows.items() if px > 0} == {}
    assert len(overflows) == len(nav) + len(site.owner_pages)


def test_the_members_page_keeps_every_button_on_a_phone_screen(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    page.goto(f"/{site.acme.pk}/workspace/members/")
    row = page.locator("tr", has=page.get_by_text("member@demo.test", exact=True))
    for control in (
        row.get_by_label("Rôle"),
        row.get_by_role("button", name="Changer le rôle"),
        row.get_by_role("link", name="Supprimer"),
        row.get_by_role("button", name="Nommer propriétaire"),
    ):
        box = control.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    # Each cell under its column's name: the row still says what "Inclus" is.
    assert row.locator("td[data-label='Siège']").inner_text() == "Inclus"
    context.close()


def test_the_usage_chart_keeps_its_y_axis_on_a_phone(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    page.goto(f"/{site.acme.pk}/workspace/subscription/")
    chart = page.locator(".chart-scroll")
    chart.wait_for()
    # The chart scrolls sideways (to the latest days first) and its y axis stays in view.
    assert chart.evaluate("c => c.scrollWidth > c.clientWidth && c.scrollLeft > 0")
    axis = page.locator(".chart-y-axis")
    assert axis.is_visible()
    labels = axis.locator("text").all_text_contents()
    assert labels[0] == "0"
    assert len(labels) == 5
    axis_box, chart_box = axis.bounding_box(), chart.bounding_box()
    assert axis_box is not None
    assert chart_box is not None
    assert axis_box["x"] == chart_box["x"]
    # Reached with the keyboard, as a scrolling region must be.
    assert chart.get_attribute("tabindex") == "0"
    context.close()


def test_the_credit_purchases_are_not_cut_on_a_phone(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    page.goto(f"/{site.acme.pk}/workspace/subscription/billing/")
    table = page.locator("#purchases-card table")
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")
    # One card per purchase: every cell, the amount and its invoice included, on screen
    # under its column's name.
    cells = table.locator("tbody tr").first.locator("td")
    for index in range(cells.count()):
        box = cells.nth(index).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"]
    assert cells.nth(2).get_attribute("data-label") == "Montant TTC (€)"
    context.close()


def test_every_page_a_member_or_a_visitor_sees_fits_a_phone(browser, site):
    member_context = new_context(browser, site, viewport=PHONE)
    page = sign_in(member_context, MEMBER)
    nav = sidebar_pages(page, site, prefix="member-")
    assert "member-nav-members" in {p.name for p in nav}
    member_overflows = _visit_all(page, nav + site.member_pages)
    member_context.close()

    visitor_context = new_context(browser, site, viewport=PHONE)
    visitor_overflows = _visit_all(visitor_context.new_page(), site.anonymous_pages)
    visitor_context.close()

    assert {name: px for name, px in {**member_overflows, **visitor_overflows}.items() if px > 0} == {}
    assert len(visitor_overflows) == 6


def test_the_modals_fit_a_phone(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    base = f"/{site.acme.pk}/workspace/"
    opened = []
    for url, opener, dialog_id in (
        (base + "subscription/", "Passer à la facturation annuelle", "annual-modal"),
        (base + "subscription/settings/", "Annuler mon abonnement", "cancel-modal"),
        (base + "members/", "Supprimer", "remove-member-modal"),
    ):
        page.goto(url)
        page.get_by_role("link", name=opener).first.click()
        dialog = page.locator(f"dialog#{dialog_id}")
        dialog.wait_for()
        box = dialog.bounding_box()
        assert box is not None
        assert box["x"] >= 0, dialog_id
        assert box["x"] + box["width"] <= PHONE["width"], dialog_id
        assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth"), dialog_id
        page.screenshot(path=str(ARTIFACTS / f"phone-{dialog_id}.png"))
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")
        opened.append(dialog_id)
    assert opened == ["annual-modal", "cancel-modal", "remove-member-modal"]
    context.close()

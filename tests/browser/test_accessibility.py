"""Accessibility in Chromium (docs/accessibility.md): axe-core (bundled by
axe-playwright-python, no network) finds no serious or critical violation on any page, in
French on a desktop and in English on a phone, nor in any open modal; every modal is used
with the keyboard alone: focus moves in, stays in, Escape closes it and focus goes back to
what opened it."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.site_pages import (
    DESKTOP,
    MEMBER,
    OWNER,
    PHONE,
    Site,
    SitePage,
    demo_site,
    new_context,
    open_page,
    sidebar_pages,
    sign_in,
)

# django_db: the test database (site_pages.demo_site seeds it for the module).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

AXE = Axe()
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    with demo_site(request, tmp_path_factory.mktemp("media")) as seeded:
        yield seeded


def _blocking_violations(page) -> list[str]:
    """The serious and critical violations axe-core finds on the page as it is, one line each."""
    results = AXE.run(page).response
    return [
        f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def _audit(page, pages: list[SitePage]) -> dict[str, list[str]]:
    found = {}
    for site_page in pages:
        status = open_page(page, site_page)
        assert status == site_page.status, f"{site_page.name} ({site_page.url}) answered {status}"
        found[site_page.name] = _blocking_violations(page)
    return found


def _audit_site(
    browser, site: Site, *, viewport: dict[str, int], locale: str, members_too: bool
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    users = [(OWNER, site.owner_pages)] + ([(MEMBER, site.member_pages)] if members_too else [])
    for email, pages in users:
        context = new_context(browser, site, viewport=viewport, locale=locale)
        page = sign_in(context, email)
        prefix = "" if email == OWNER else "member-"
        found |= _audit(page, sidebar_pages(page, site, prefix=prefix) + pages)
        context.close()
    context = new_context(browser, site, viewport=viewport, locale=locale)
    found |= _audit(context.new_page(), site.anonymous_pages)
    context.close()
    return found


def test_no_page_has_a_serious_violation_in_french_on_a_desktop(browser, site):
    found = _audit_site(browser, site, viewport=DESKTOP, locale="fr-FR", members_too=True)

    assert {name: lines for name, lines in found.items() if lines} == {}
    # Every page was audited: the owner's and a member's sidebars, their other pages, and
    # the visitor's pages (sign in, sign up, password reset, invitations).
    assert {"nav-members", "nav-ai", "nav-api-keys", "nav-settings", "member-nav-members"} <= set(found)
    assert len(found) >= len(site.owner_pages) + len(site.member_pages) + len(site.anonymous_pages) + 8


def test_no_page_has_a_serious_violation_in_english_on_a_phone(browser, site):
    # The owner sees every page, with the most controls; a member's read-only views of the
    # same templates are audited in French above (kept short: one pass of axe a second).
    found = _audit_site(browser, site, viewport=PHONE, locale="en-US", members_too=False)

    assert {name: lines for name, lines in found.items() if lines} == {}
    assert {"overview", "billing", "nav-members", "nav-ai", "invoice-detail", "login"} <= set(found)


def _focus_is_in(dialog) -> bool:
    return dialog.evaluate("d => d.contains(document.activeElement)")


def _use_with_the_keyboard(page, opener, dialog_selector: str) -> list[str]:
    """Open the modal from its opener with Enter, go round it with Tab and Shift+Tab, audit
    it, close it with Escape; returns what axe found while it was open."""
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.locator(dialog_selector)
    dialog.wait_for(state="visible")
    page.wait_for_function(
        "s => document.querySelector(s).contains(document.activeElement)", arg=dialog_selector
    )
    assert dialog.evaluate("d => d.open && d.matches(':modal')")
    # Round the modal each way: focus never leaves it and comes back to where it started.
    first = page.evaluate("document.activeElement.outerHTML")
    for key in ("Tab", "Shift+Tab"):
        stops = []
        for _ in range(40):
            page.keyboard.press(key)
            assert _focus_is_in(dialog), f"{key} left {dialog_selector}"
            stops.append(page.evaluate("document.activeElement.outerHTML"))
            if stops[-1] == first:
                break
        assert stops[-1] == first, f"{key} never came back round {dialog_selector}"
        assert len(stops) >= 2, f"{dialog_selector} has a single control"
    found = _blocking_violations(page)
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    page.wait_for_function("() => document.activeElement !== document.body")
    assert opener.evaluate("e => e === document.activeElement"), "focus did not go back to the opener"
    return found


def test_every_modal_is_used_with_the_keyboard_alone(browser, site):
    context = new_context(browser, site, viewport=DESKTOP)
    page = sign_in(context, OWNER)
    base = f"/{site.acme.pk}/workspace/"
    found = {}

    page.goto(base + "subscription/")
    opener = page.locator(".annual").get_by_role("link", name="Passer à la facturation annuelle")
    found["annual"] = _use_with_the_keyboard(page, opener, "dialog#annual-modal")

    page.goto(base + "subscription/settings/")
    opener = page.get_by_role("link", name="Annuler mon abonnement")
    found["cancel"] = _use_with_the_keyboard(page, opener, "dialog#cancel-modal")

    page.goto(base + "members/")
    row = page.locator("tr", has=page.get_by_text("member@demo.test", exact=True))
    found["remove-member"] = _use_with_the_keyboard(
        page, row.get_by_role("link", name="Supprimer"), "dialog#remove-member-modal"
    )

    # Solo is on Free with 10 credits: 3 prototype screens (15 credits) open the modal.
    page.goto(f"/{site.solo.pk}/workspace/ai/")
    page.get_by_label("Générer un écran de prototype").check()
    page.fill("input[name=quantity]", "3")
    found["out-of-credits"] = _use_with_the_keyboard(
        page, page.get_by_role("button", name="Lancer"), "dialog#credits-modal"
    )
    context.close()

    assert found == {"annual": [], "cancel": [], "remove-member": [], "out-of-credits": []}


def test_a_modal_closes_with_its_close_button_and_focus_goes_back(browser, site):
    context = new_context(browser, site, viewport=PHONE, locale="en-US")
    page = sign_in(context, OWNER)
    page.goto(f"/{site.acme.pk}/workspace/subscription/settings/")
    opener = page.get_by_role("link", name="Cancel my subscription")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#cancel-modal")
    dialog.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#cancel-modal').contains(document.activeElement)")
    # The first stop is the close button: Enter on it closes the modal.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Close"
    page.keyboard.press("Enter")
    dialog.wait_for(state="detached")
    page.wait_for_function("() => document.activeElement !== document.body")
    assert opener.evaluate("e => e === document.activeElement")
    context.close()


def test_the_pay_now_modal_is_used_with_the_keyboard_alone(browser, site):
    context = new_context(browser, site, viewport=PHONE)
    page = sign_in(context, OWNER)
    page.goto(f"/{site.overdue.pk}/workspace/subscription/billing/")
    failed = page.locator("#invoices-card tr", has=page.locator(".status-pill--failed"))
    opener = failed.locator("a[href$='/pay/']")
    assert opener.inner_text() == "Payer maintenant"

    found = _use_with_the_keyboard(page, opener, "dialog#pay-invoice-modal")

    context.close()
    assert found == []


def test_a_modal_the_page_was_served_with_is_modal_too(browser, site):
    """Without htmx on the way (the form posted as a plain form), the AI page comes back with
    the out-of-credits modal already open: it is made modal, so Escape closes it."""
    context = new_context(browser, site, viewport=DESKTOP)
    page = sign_in(context, OWNER)
    page.goto(f"/{site.solo.pk}/workspace/ai/")
    # A copy of the form carries none of htmx's listeners: it posts as a plain form.
    page.evaluate(
        "() => { const form = document.querySelector('form.ai-form'); form.replaceWith(form.cloneNode(true)); }"
    )
    page.get_by_label("Générer un écran de prototype").check()
    page.fill("input[name=quantity]", "3")
    with page.expect_navigation():
        page.get_by_role("button", name="Lancer").click()
    dialog = page.locator("dialog#credits-modal")
    dialog.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#credits-modal').contains(document.activeElement)")
    assert dialog.evaluate("d => d.matches(':modal')")
    assert _blocking_violations(page) == []

    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    # What opened it was on the page before: focus goes to the page's heading.
    page.wait_for_function("() => document.activeElement.tagName === 'H1'")
    assert page.evaluate("document.activeElement.textContent") == "Actions IA"
    context.close()

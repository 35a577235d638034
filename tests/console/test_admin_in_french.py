"""The admin speaks the operator's language: in French, every app, model, column, filter,
detail label and action of our apps is French (docs/rules/operators.md#language).

The names come from the code (English) and their translations from the catalogs, so a
model or a field label added without its French translation fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.db.models import Model
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import override

from credits.models import ActionType
from gateways.stripe.models import StripeEvent
from outbox.models import Message
from teams.services.members import member_add
from tests.factories import (
    AccountBalanceCreditFactory,
    ApiKeyFactory,
    FreeCreditsFactory,
    InvitationFactory,
    MembershipFactory,
    ReservationFactory,
    UserFactory,
    subscribe,
)
from tests.subscriptions.conftest import at
from workspaces.models import Role, User

#: Words spelt the same in both languages: the only labels allowed to read the same.
SAME_IN_BOTH_LANGUAGES = frozenset(
    {"code", "id", "invitation", "invitations", "message", "messages", "total"}
)


def _ours(model: type[Model]) -> bool:
    """A model of the project's own apps (not Django's nor a library's)."""
    path = Path(model._meta.app_config.path).resolve()
    return path.is_relative_to(settings.BASE_DIR) and ".venv" not in path.parts


def _our_admins() -> list[tuple[type[Model], admin.ModelAdmin]]:  # type: ignore[type-arg]
    admins = [(model, model_admin) for model, model_admin in admin.site._registry.items() if _ours(model)]
    return sorted(admins, key=lambda pair: pair[0]._meta.label)


def _in_both(text: Any) -> tuple[str, str]:
    with override("en"):
        english = str(text)
    with override("fr"):
        french = str(text)
    return english, french


def _untranslated(labels: dict[str, Any]) -> list[str]:
    """The labels whose French reads as their English, but for the allowed words."""
    found = []
    for where, text in labels.items():
        english, french = (words.strip().lower() for words in _in_both(text))
        if english == french and english not in SAME_IN_BOTH_LANGUAGES:
            found.append(f"{where}: {english!r}")
    return found


def _operator_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = User(email="ops@seatcredit.test", is_staff=True, is_superuser=True, is_active=True)
    return request


def _label(name: Any, model: type[Model], model_admin: Any) -> Any:
    return label_for_field(name, model, model_admin=model_admin)


def _html(label: Any) -> str:
    """A label as the admin writes it: capitalised, escaped."""
    return str(escape(capfirst(str(label))))


def _filter_names(model_admin: Any) -> list[str]:
    return [entry if isinstance(entry, str) else entry[0] for entry in model_admin.list_filter]


def _shown_fields(model: type[Model], model_admin: Any, request: Any) -> dict[str, Any]:
    """Every field label the admin shows for ``model``: its list's columns and filters, its
    detail page's fields and its inlines' columns."""
    labels: dict[str, Any] = {}
    where = model._meta.label
    row = model()  # a change page's fields (a user's add page asks for other ones)
    for name in model_admin.get_list_display(request):
        if name != "action_checkbox":
            labels[f"{where} column {name}"] = _label(name, model, model_admin)
    for name in _filter_names(model_admin):
        labels[f"{where} filter {name}"] = _label(name, model, model_admin)
    detail = [
        *flatten_fieldsets(model_admin.get_fieldsets(request, row)),
        *model_admin.get_readonly_fields(request, row),
    ]
    for name in detail:
        labels[f"{where} detail {name}"] = _label(name, model, model_admin)
    for inline in model_admin.get_inline_instances(request, row):
        inline_fields = [
            *flatten_fieldsets(inline.get_fieldsets(request, row)),
            *inline.get_readonly_fields(request, row),
        ]
        for name in inline_fields:
            labels[f"{where} inline {inline.model._meta.label} {name}"] = _label(name, inline.model, inline)
    return labels


def test_our_apps_are_all_in_the_admin():
    labels = {model._meta.app_label for model, _ in _our_admins()}

    assert labels >= {
        "audit", "credits", "invoices", "outbox", "stripe_gateway", "subscriptions", "teams", "workspaces",
    }  # fmt: skip


def test_every_app_and_model_of_ours_has_a_french_name():
    request = _operator_request()
    names: dict[str, Any] = {}
    for model, model_admin in _our_admins():
        opts = model._meta
        names[f"app {opts.app_label}"] = opts.app_config.verbose_name
        names[f"model {opts.label}"] = opts.verbose_name
        names[f"model {opts.label} (plural)"] = opts.verbose_name_plural
        for inline in model_admin.get_inline_instances(request):
            names[f"inline {inline.model._meta.label}"] = inline.verbose_name_plural

    assert _untranslated(names) == []


def test_every_column_filter_and_detail_label_of_ours_is_in_french():
    request = _operator_request()
    labels: dict[str, Any] = {}
    for model, model_admin in _our_admins():
        labels.update(_shown_fields(model, model_admin, request))

    assert _untranslated(labels) == []


def test_every_admin_action_of_ours_is_in_french():
    request = _operator_request()
    descriptions = {
        f"{model._meta.label} action {name}": description
        for model, model_admin in _our_admins()
        for name, (_, _, description) in model_admin.get_actions(request).items()
    }

    assert "outbox.Message action retry_messages" in descriptions
    assert _untranslated(descriptions) == []


@pytest.fixture
def rows(billed_workspace, owner, other_billed):
    """At least one row of each model the admin lists (where a factory or the product makes it)."""
    workspace = billed_workspace
    subscribe(workspace, owner, "business", now=at(2026, 3, 1, 9))
    member_add(
        workspace=workspace, actor=owner, user=UserFactory(email="zoe@acme.test"), role=Role.MEMBER,
        now=at(2026, 3, 2, 9),
    )  # fmt: skip
    MembershipFactory(workspace=workspace, role=Role.GUEST)
    InvitationFactory(workspace=workspace, email="new@acme.test", role=Role.MEMBER)
    ApiKeyFactory(workspace=workspace)
    FreeCreditsFactory(workspace=workspace)
    ReservationFactory(workspace=workspace)
    AccountBalanceCreditFactory(workspace=workspace)
    StripeEvent.objects.create(
        event_id="evt_test_1", type="invoice.paid", created=at(2026, 3, 1, 9), payload={}, note="ignored"
    )
    return workspace


def test_an_operator_reads_the_admin_in_french(client, rows):
    operator = UserFactory(email="ops@seatcredit.test", is_staff=True, is_superuser=True)
    client.force_login(operator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    request = _operator_request()
    assert ActionType.objects.exists()
    assert Message.objects.exists()

    index = client.get(reverse("admin:index")).content.decode()
    with override("fr"):
        for model, model_admin in _our_admins():
            opts = model._meta
            for name in (opts.app_config.verbose_name, opts.verbose_name_plural):
                english, french = _in_both(name)
                assert _html(french) in index, opts.label
                if english.lower() not in SAME_IN_BOTH_LANGUAGES:
                    assert f">{_html(english)}</a>" not in index, opts.label
            changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
            assert changelist.status_code == 200, opts.label
            page = changelist.content.decode()
            for name in model_admin.get_list_display(request):
                if name != "action_checkbox":
                    assert _html(_label(name, model, model_admin)) in page, f"{opts.label} column {name}"
            # The filters shown: a filter with nothing to choose from (no groups yet) is left out.
            for spec in changelist.context["cl"].filter_specs:
                if spec.has_output():
                    assert str(escape(str(spec.title))) in page, f"{opts.label} filter {spec.title}"
            row = model_admin.get_queryset(request).first()
            if row is None or opts.label == "workspaces.Workspace":
                continue  # the workspace's page is the operators' own (test_workspace_page)
            detail = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
            assert detail.status_code == 200, opts.label
            page = detail.content.decode()
            for where, label in _shown_fields(model, model_admin, request).items():
                if " detail " in where or " inline " in where:
                    assert _html(label) in page, where

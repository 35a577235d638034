"""Credit pages: the AI actions playground and the API keys of a workspace."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credits import apikeys, errors, offers, selectors, simulation
from credits.forms import AiActionForm, ApiKeyForm, new_idempotency_key
from credits.models import ActionType
from workspaces import permissions
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.errors import DomainError
from workspaces.permissions import Capability


def _sample_actions() -> list[ActionType]:
    by_code = {a.code: a for a in selectors.action_catalog().filter(code__in=simulation.SAMPLE_ACTIONS)}
    return [by_code[code] for code in simulation.SAMPLE_ACTIONS if code in by_code]


def _balance_context(request: WorkspaceRequest) -> dict[str, Any]:
    summary = selectors.credit_summary(request.workspace)
    # Billing readers see the balance, and nobody on Free (docs/rules/credits.md#balance-display).
    visible = summary.show_balance and permissions.allows(request.membership.role, Capability.VIEW_BILLING)
    return {"summary": summary, "balance_visible": visible}


def _page(request: WorkspaceRequest, form: AiActionForm, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "workspace": request.workspace,
        "nav": "ai",
        "form": form,
        **_balance_context(request),
        **extra,
    }
    return render(request, "credits/ai_actions.html", context, status=status)


@workspace_view(Capability.USE_AI)
@require_http_methods(["GET"])
def ai_actions(request: WorkspaceRequest) -> HttpResponse:
    return _page(request, AiActionForm(actions=_sample_actions()))


@workspace_view(Capability.USE_AI)
@require_POST
def ai_action_run(request: WorkspaceRequest) -> HttpResponse:
    """Run a sample action; htmx gets the result fragment, or the out-of-credits modal."""
    actions = _sample_actions()
    form = AiActionForm(request.POST, actions=actions)
    fresh_form = AiActionForm(actions=actions, initial={"idempotency_key": new_idempotency_key()})
    if not form.is_valid():
        if request.htmx:
            # htmx 2 does not swap 4xx answers: the fragment must come with a 200.
            return render(request, "credits/partials/ai_form_errors.html", {"form": form})
        return _page(request, form, status=400)
    try:
        outcome = simulation.ai_action_perform(
            workspace=request.workspace,
            actor=request.membership,
            action=form.cleaned_data["action"],
            quantity=form.cleaned_data["quantity"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            simulate_failure=form.cleaned_data["simulate_failure"],
        )
    except errors.InsufficientCredits as exc:
        modal = {"shortage": exc, "options": offers.upgrade_options(request.workspace.pk)}
        if request.htmx:
            # The balance shows only where the balance card would (never on Free).
            response = render(
                request,
                "credits/partials/credits_modal.html",
                {**modal, "fresh_form": fresh_form, **_balance_context(request)},
            )
            # The modal (docs/rules/credits.md#out-of-credits) is a native <dialog> appended to
            # the body; it opens itself (templates/partials/modal.html).
            response["HX-Retarget"] = "body"
            response["HX-Reswap"] = "beforeend"
            return response
        return _page(request, fresh_form, status=402, modal=modal)
    except DomainError as exc:
        if request.htmx:
            return render(request, "credits/partials/ai_error.html", {"message": exc.message}, status=200)
        return _page(request, fresh_form, status=400, error=exc.message)
    context = {"outcome": outcome, "fresh_form": fresh_form, **_balance_context(request)}
    if request.htmx:
        return render(request, "credits/partials/ai_result.html", context)
    return _page(request, fresh_form, outcome=outcome)


def _keys_page(
    request: WorkspaceRequest, form: ApiKeyForm | None = None, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "workspace": request.workspace,
        "nav": "api_keys",
        "form": form or ApiKeyForm(),
        "api_keys": selectors.api_keys_of(request.workspace),
        "now": timezone.now(),
        **extra,
    }
    return render(request, "credits/api_keys.html", context, status=status)


@workspace_view(Capability.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def api_keys(request: WorkspaceRequest) -> HttpResponse:
    """List the workspace's keys; a POST creates one and shows it once."""
    if request.method != "POST":
        return _keys_page(request)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, form, status=400)
    try:
        api_key, key = apikeys.api_key_create(
            workspace=request.workspace,
            actor=request.membership,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
        )
    except (errors.ApiKeyExpiryInPast, errors.ApiKeyScopesRequired) as exc:
        form.add_error(
            "expires_on" if isinstance(exc, errors.ApiKeyExpiryInPast) else "scopes", str(exc.message)
        )
        return _keys_page(request, form, status=400)
    response = _keys_page(request, new_key=key, new_api_key=api_key)
    # The page shows the key once: no browser or proxy may keep a copy (docs/security.md).
    add_never_cache_headers(response)  # Cache-Control: …, no-store, private
    return response


@workspace_view(Capability.MANAGE_API_KEYS)
@require_POST
def api_key_revoke(request: WorkspaceRequest, api_key_id: int) -> HttpResponse:
    try:
        api_key = apikeys.api_key_revoke(
            workspace=request.workspace, actor=request.membership, api_key_id=api_key_id
        )
    except errors.ApiKeyNotFound as exc:
        raise Http404("No such API key.") from exc
    messages.success(
        request, _("The key “%(name)s” is revoked: requests using it are refused.") % {"name": api_key.name}
    )
    return redirect("api_keys", workspace_id=request.workspace.pk)

"""The members page: members and their seats, invitations, roles, removal, seat periods.

Owners and admins manage (docs/rules/roles.md#capability-matrix); other licensed roles read.
Refusals re-render the page (status 400) with the rule's message, and a "contact
sales" link when the team is at its member cap.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domain.calendar import day_of
from subscriptions.models import Channel, Price
from subscriptions.selectors import subscription_of
from teams import errors as team_errors
from teams import selectors, services
from teams.forms import SeatPeriodForm
from teams.models import SeatInterval
from workspaces import errors
from workspaces import selectors as workspace_selectors
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.formatting import format_date, format_money
from workspaces.forms import InvitationForm, RoleChangeForm
from workspaces.models import Invitation, Membership
from workspaces.permissions import Capability
from workspaces.templatetags.formatting import active_locale

_LIMIT_ERRORS = (team_errors.MemberLimitReached,)


def _refusal(exc: errors.DomainError) -> dict[str, Any]:
    return {"message": exc.message, "contact_sales": isinstance(exc, _LIMIT_ERRORS)}


def _members_page(
    request: WorkspaceRequest,
    *,
    invite_form: InvitationForm | None = None,
    refusal: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    workspace = request.workspace
    subscription = subscription_of(workspace)
    in_trial = subscription.in_trial(timezone.now())
    offered = set(
        Price.objects.filter(
            plan=subscription.plan, currency=subscription.price.currency, is_active=True
        ).values_list("interval", flat=True)
    )
    return render(
        request,
        "teams/members.html",
        {
            "nav": "members",
            "workspace": workspace,
            "subscription": subscription,
            "summary": selectors.seat_summary(workspace),
            "rows": selectors.member_rows(workspace),
            "invitations": workspace_selectors.pending_invitations(workspace),
            "invite_form": invite_form or InvitationForm(),
            "role_form": RoleChangeForm(),
            "period_choices": [(value, label) for value, label in SeatInterval.choices if value in offered],
            "periods_by_member": subscription.channel == Channel.WEB
            and not subscription.plan.seats_are_free
            and not in_trial,
            "in_trial": in_trial,
            "refusal": refusal,
            "sales_email": settings.SALES_EMAIL,
        },
        status=status,
    )


@workspace_view(Capability.VIEW_MEMBERS)
@require_GET
def member_list(request: WorkspaceRequest) -> HttpResponse:
    return _members_page(request)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_create(request: WorkspaceRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    refusal = None
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                workspace=request.workspace,
                actor=request.membership,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except errors.DomainError as exc:
            form.add_error("email", exc.message)
            refusal = _refusal(exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("member_list", workspace_id=request.workspace.pk)
    return _members_page(request, invite_form=form, refusal=refusal, status=400)


def _invitation_or_404(request: WorkspaceRequest, invitation_id: uuid.UUID) -> Invitation:
    try:
        return workspace_selectors.get_invitation_in_workspace(request.workspace, invitation_id)
    except Invitation.DoesNotExist as exc:
        raise Http404("No such invitation.") from exc


def _membership_or_404(request: WorkspaceRequest, membership_id: int) -> Membership:
    try:
        return workspace_selectors.get_membership_in_workspace(request.workspace, membership_id)
    except Membership.DoesNotExist as exc:
        raise Http404("No such member.") from exc


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_resend(request: WorkspaceRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = _invitation_or_404(request, invitation_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.membership)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request: WorkspaceRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = _invitation_or_404(request, invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.membership)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_change_role(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    """GET: the confirmation, with the seat the new role takes and its charge, or the
    credit of the seat it releases; POST: the change, through the same computation."""
    membership = _membership_or_404(request, membership_id)
    form = RoleChangeForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        # A confirmation asked for without a role is the members page, which offers them.
        status = 400 if request.method == "POST" else 200
        return _members_page(request, refusal={"message": _("Choose a valid role.")}, status=status)
    if request.method == "GET":
        context: dict[str, Any] = {"nav": "members", "workspace": request.workspace, "member": membership}
        try:
            context["preview"] = services.preview_role_change(
                workspace=request.workspace,
                actor=request.membership,
                membership=membership,
                role=form.cleaned_data["role"],
                now=timezone.now(),
            )
        except errors.DomainError as exc:
            context["refusal"] = _refusal(exc)
        return render(request, "teams/member_role.html", context, status=400 if "refusal" in context else 200)
    try:
        services.membership_change_role(
            membership=membership,
            actor=request.membership,
            role=form.cleaned_data["role"],
            now=timezone.now(),
        )
    except errors.DomainError as exc:
        return _members_page(request, refusal=_refusal(exc), status=400)
    messages.success(request, _("Role of %(email)s updated.") % {"email": membership.user.email})
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def ownership_transfer(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = _membership_or_404(request, membership_id)
    try:
        services.ownership_transfer(
            workspace=request.workspace, actor=request.membership, new_owner=membership
        )
    except errors.DomainError as exc:
        return _members_page(request, refusal=_refusal(exc), status=400)
    messages.success(
        request, _("%(email)s is now the owner of the workspace.") % {"email": membership.user.email}
    )
    return redirect("member_list", workspace_id=request.workspace.pk)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_remove(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    """GET: the confirmation with the prorated credit (a <dialog> for htmx, else a page);
    POST: the removal, through the same computation."""
    membership = _membership_or_404(request, membership_id)
    now = timezone.now()
    if request.method == "POST":
        try:
            done = services.member_remove(
                workspace=request.workspace, actor=request.membership, membership=membership, now=now
            )
        except errors.DomainError as exc:
            return _members_page(request, refusal=_refusal(exc), status=400)
        text = _("%(email)s has been removed from the team.") % {"email": membership.user.email}
        if done.total_credit_cents:
            text += " " + _("Prorated credit for the unused time: %(amount)s.") % {
                "amount": format_money(done.total_credit_cents, done.currency, active_locale())
            }
        messages.success(request, text)
        return redirect("member_list", workspace_id=request.workspace.pk)
    context: dict[str, Any] = {"nav": "members", "workspace": request.workspace, "member": membership}
    try:
        context["preview"] = services.preview_member_removal(
            workspace=request.workspace, actor=request.membership, membership=membership, now=now
        )
    except errors.DomainError as exc:
        context["refusal"] = _refusal(exc)
    template = "teams/partials/remove_dialog.html" if request.htmx else "teams/member_remove.html"
    return render(request, template, context, status=400 if "refusal" in context else 200)


@workspace_view(Capability.MANAGE_MEMBERS)
@require_POST
def seat_billing_period(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    """Weekly, monthly or annual billing for one paid seat (seed 002, web subscriptions only)."""
    membership = _membership_or_404(request, membership_id)
    form = SeatPeriodForm(request.POST)
    if not form.is_valid():
        return _members_page(request, refusal={"message": form.errors["interval"][0]}, status=400)
    try:
        seat = services.seat_billing_period_set(
            workspace=request.workspace,
            actor=request.membership,
            membership=membership,
            interval=form.cleaned_data["interval"],
            now=timezone.now(),
        )
    except errors.DomainError as exc:
        return _members_page(request, refusal=_refusal(exc), status=400)
    if seat.pending_interval and seat.pending_at:
        # docs/rules/proration.md#changing-a-seats-period: at the end of the paid unit.
        message = _("The seat of %(email)s will have %(period)s billing from %(date)s.") % {
            "email": membership.user.email,
            "period": str(SeatInterval(seat.pending_interval).label).lower(),
            "date": format_date(
                day_of(seat.pending_at, request.workspace.billing_zone), active_locale(), "long"
            ),
        }
    else:
        message = _("The seat of %(email)s now has %(period)s billing.") % {
            "email": membership.user.email,
            "period": str(SeatInterval(seat.interval).label).lower(),
        }
    messages.success(request, message)
    return redirect("member_list", workspace_id=request.workspace.pk)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; a signed-in invitee accepts it with a POST."""
    invitation = workspace_selectors.invitation_by_token(token)
    try:
        services.check_invitation(invitation)
    except errors.DomainError as exc:
        status = 404 if isinstance(exc, errors.InvitationInvalid) else 410
        return render(request, "workspaces/invitation_invalid.html", {"message": exc.message}, status=status)
    assert invitation is not None
    if not request.user.is_authenticated:
        # Opening the link changes nothing: the invitee signs in, or signs up and verifies
        # the address as any new account does, then accepts (docs/security.md#invitations).
        return render(request, "workspaces/invitation_accept.html", {"invitation": invitation})
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)  # type: ignore[arg-type]
        except errors.DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Welcome to %(workspace)s.") % {"workspace": membership.workspace.name}
            )
            return redirect("workspace_home", workspace_id=membership.workspace_id)
    return render(request, "workspaces/invitation_accept.html", {"invitation": invitation})

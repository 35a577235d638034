"""Workspaces in the admin: the operators' workspace page and their actions.

The workspace's own rows (members, roles, invitations) are read-only here: they change
through the members page and its services, which keep seats and money consistent. An
operator acts through the page's actions (:mod:`console.operations`), each with a reason
and a confirmation that shows the money or credits it moves
(docs/rules/operators.md#workspace-page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from console import charts, dashboard, operations, selectors
from console.admin.base import ReadOnlyAdmin, ReadOnlyInline, money_in_locale
from console.errors import OperatorRefused
from console.forms import (
    AmountForm,
    BalanceForm,
    CreditsForm,
    PaymentForm,
    ReasonForm,
    SubscriptionForm,
    TrialForm,
    cents,
)
from console.permissions import Power, powers_of, require, support_credit_limit
from credits.models import CreditBalance
from domain.calendar import day_of
from invoices.line_words import line_words
from invoices.models import Invoice
from invoices.selectors import account_balance_cents
from subscriptions.models import CancelReason
from workspaces.errors import DomainError
from workspaces.formatting import format_date, format_day_month, format_number
from workspaces.models import Invitation, Membership, User, Workspace
from workspaces.selectors import billing_contacts


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "date_joined")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (gettext_lazy("Profile"), {"fields": ("first_name", "last_name", "time_zone")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),  # fmt: skip
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields


def format_day(moment: Any, zone: Any) -> str:
    """A boundary (the midnight a day begins) as that day, in the operator's language."""
    if moment is None:
        return "—"
    return format_date(day_of(moment, zone), get_language() or settings.LANGUAGE_CODE, "long")


@dataclass(frozen=True)
class Action:
    power: Power
    form: type[Form]
    title: Any
    on_invoice: bool = False


ACTIONS: dict[str, Action] = {
    "credits": Action(Power.ADJUST_CREDITS, CreditsForm, gettext_lazy("Adjust credits")),
    "balance": Action(Power.ADJUST_BALANCE, BalanceForm, gettext_lazy("Adjust the account balance")),
    "trial": Action(Power.EXTEND_TRIAL, TrialForm, gettext_lazy("Extend the trial")),
    "subscription": Action(
        Power.CHANGE_SUBSCRIPTION, SubscriptionForm, gettext_lazy("Change the subscription")
    ),
    "refund": Action(Power.REFUND, AmountForm, gettext_lazy("Refund"), on_invoice=True),
    "record_payment": Action(
        Power.RECORD_PAYMENT, PaymentForm, gettext_lazy("Record an out-of-band payment"), on_invoice=True
    ),
    "void": Action(Power.VOID_INVOICE, ReasonForm, gettext_lazy("Void"), on_invoice=True),
    "retry": Action(Power.RETRY_CHARGE, ReasonForm, gettext_lazy("Retry the charge now"), on_invoice=True),
    "receipt": Action(
        Power.RESEND_RECEIPT, ReasonForm, gettext_lazy("Send the receipt again"), on_invoice=True
    ),
}


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ("name", "id", "country", "currency", "created_at")
    # Name or id, a member's email, an invoice's or a credit note's number, the Stripe
    # customer, a payment intent (docs/rules/operators.md#workspace-page).
    search_fields = ("name", "id", "billing_email", "memberships__user__email", "=invoices__number",
                     "=stripe_customer__customer_id", "=charges__reference")  # fmt: skip
    inlines = (MembershipInline,)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="operators_dashboard"),
            path(
                "<uuid:object_id>/operate/<str:action>/",
                view(self.operate_view),
                name="workspaces_workspace_operate",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """The operators' dashboard (docs/rules/operators.md#dashboard)."""
        user: User = request.user  # type: ignore[assignment]
        try:
            require(user, Power.READ)
        except OperatorRefused as exc:
            raise PermissionDenied(str(exc.message)) from exc
        locale = get_language() or settings.LANGUAGE_CODE
        data = dashboard.dashboard(zone=timezone.get_current_timezone_name())
        currency = max(data.mrr_totals, key=lambda c: data.mrr_totals[c], default="EUR")
        history = charts.bars(
            [(charts.month_label(month.date(), locale), amounts.get(currency, 0),
              money_in_locale(amounts.get(currency, 0), currency)) for month, amounts in data.history]
        )  # fmt: skip
        credits = charts.bars(
            [(format_day_month(day, locale), spent, format_number(spent, locale))
             for day, spent in data.credits_per_day]
        )  # fmt: skip
        reasons = dict(CancelReason.choices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Operators' dashboard"),
            "data": data,
            "currency": currency,
            "history": history,
            "credits": credits,
            "churn": [(reasons.get(reason, reason or "—"), count) for reason, count in data.churn],
        }
        return TemplateResponse(request, "admin/console/dashboard.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The workspace page: everything about one workspace, read-only, with the
        actions the operator's group allows."""
        if request.method != "GET":
            raise PermissionDenied  # nothing is edited here: the actions have their own pages
        workspace = self.get_object(request, object_id)
        if workspace is None or not self.has_view_permission(request, workspace):
            raise Http404
        user: User = request.user  # type: ignore[assignment]
        data = selectors.workspace_page(
            workspace,
            ledger_kind=request.GET.get("ledger_kind", ""),
            ledger_page=request.GET.get("ledger_page"),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": workspace.name,
            "original": workspace,
            "page": data,
            "powers": {power.value: True for power in powers_of(user)},
        }
        return TemplateResponse(request, "admin/console/workspace.html", context)

    def operate_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        workspace = get_object_or_404(Workspace, pk=object_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404
        user: User = request.user  # type: ignore[assignment]
        invoice = None
        if spec.on_invoice:
            invoice = get_object_or_404(Invoice, pk=request.GET.get("invoice") or 0, workspace=workspace)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": workspace,
            "title": spec.title,
            "action": action,
            "invoice": invoice,
        }
        try:
            require(user, spec.power)
        except OperatorRefused as refused:
            context["refusal"] = refused.message
            return TemplateResponse(request, "admin/console/operate.html", context, status=403)
        form = self._form(spec, request, workspace)
        context["form"] = form
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(
                request,
                "admin/console/operate.html",
                context,
                status=400 if request.method == "POST" else 200,
            )
        try:
            if request.POST.get("confirm") != "1":
                context["preview"], context["confirmation"] = self._preview(action, form, workspace, invoice)
                return TemplateResponse(request, "admin/console/operate.html", context)
            done = self._apply(action, form, user, workspace, invoice, request.POST.get("confirmation", ""))
        except OperatorRefused as refused:
            context["refusal"] = refused.message
            return TemplateResponse(request, "admin/console/operate.html", context, status=403)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            context.pop("preview", None)
            return TemplateResponse(request, "admin/console/operate.html", context, status=400)
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:workspaces_workspace_change", args=[workspace.pk]))

    @staticmethod
    def _form(spec: Action, request: HttpRequest, workspace: Workspace) -> Form:
        data = request.POST if request.method == "POST" else None
        if spec.form is SubscriptionForm:
            extra_seats, addons = selectors.subscription_customization(workspace)
            return SubscriptionForm(data, currency=workspace.currency, extra_seats=extra_seats, addons=addons)
        return spec.form(data)

    @staticmethod
    def _preview(
        action: str, form: Form, workspace: Workspace, invoice: Invoice | None
    ) -> tuple[list[tuple[str, str]], str]:
        """What the action will move, as the confirmation shows it."""
        money = money_in_locale
        data = form.cleaned_data
        currency = invoice.currency if invoice is not None else workspace.currency
        if action == "credits":
            balance = (
                CreditBalance.objects.filter(workspace=workspace).values_list("balance", flat=True).first()
            )
            before = balance or 0
            return [
                (_("Credit balance now"), f"{before}"),
                (_("Adjustment"), f"{data['credits']:+d}"),
                (_("Credit balance after"), f"{before + data['credits']}"),
                (_("Support limit"), f"{support_credit_limit()}"),
            ], ""
        if action == "balance":
            assert isinstance(form, BalanceForm)
            before = account_balance_cents(workspace)
            amount = form.signed_cents()
            return [
                (_("Account balance now"), money(before, currency)),
                (_("Credited") if amount > 0 else _("Taken back"), money(abs(amount), currency)),
                (_("Account balance after"), money(before + amount, currency)),
            ], ""
        if action == "trial":
            trial = operations.preview_extend_trial(workspace=workspace, days=data["days"])
            zone = workspace.billing_zone
            ends_now = selectors.subscription_trial_end(workspace)
            rows = [
                (_("Trial ends now"), format_day(ends_now, zone)),
                (_("Trial ends after"), format_day(trial.outcome.get("trial_end"), zone)),
                (_("Charged now"), money(0, trial.currency)),
            ]
            if trial.next_renewal_cents is not None:
                rows.append(
                    (
                        _("First charge, on %(day)s") % {"day": format_day(trial.next_renewal_at, zone)},
                        money(trial.next_renewal_cents, trial.currency),
                    )
                )
            return rows, trial.confirmation
        if action == "subscription":
            assert isinstance(form, SubscriptionForm)
            preview = operations.preview_subscription(
                workspace=workspace, action=data["action"], reason=data["reason"],
                price_id=data["price"].pk if data.get("price") else None,
                customization=form.customization(),
            )  # fmt: skip
            rows = [
                (_("Plan after"), str(preview.outcome.get("plan_name", ""))),
                (_("Status after"), str(preview.outcome.get("status", ""))),
                (_("Charged now"), money(preview.total_due_now_cents, preview.currency)),
                (_("Credited to the account balance"), money(preview.account_credit_cents, preview.currency)),
            ]
            if data["action"] == "customize":
                extra_seats, addons = form.customization()
                rows.insert(1, (_("Extra seats"), f"{form.current_extra_seats} → {extra_seats}"))
                for code, quantity in sorted(addons.items()):
                    if quantity != form.current_addons.get(code, 0):
                        rows.insert(2, (code, f"{form.current_addons.get(code, 0)} → {quantity}"))
                language = get_language() or settings.LANGUAGE_CODE
                for line in preview.lines:
                    words = line_words(line, currency=preview.currency, language=language)
                    rows.append((words.description, words.formula))
            return rows, preview.confirmation
        assert invoice is not None
        if action == "refund":
            refund = operations.preview_refund(invoice=invoice)
            amount = cents(data["amount"])
            return [
                (_("Invoice"), invoice.number or ""),
                (_("Paid by card"), money(refund.paid_cents, currency)),
                (_("Already refunded"), money(refund.refunded_cents, currency)),
                (_("Refunded now to the card (a credit note is issued)"), money(amount, currency)),
                (_("Left to refund after"), money(refund.refundable_cents - amount, currency)),
            ], ""
        if action == "record_payment":
            return [
                (_("Invoice"), invoice.number or ""),
                (_("Recorded as paid"), money(invoice.amount_due_cents, currency)),
                (_("Payment reference"), data["reference"]),
            ], ""
        if action == "void":
            return [
                (_("Invoice"), invoice.number or ""),
                (_("Voided"), money(invoice.amount_due_cents, currency)),
            ], ""
        if action == "receipt":
            return [
                (_("Invoice"), invoice.number or ""),
                (_("Paid"), money(invoice.amount_due_cents, currency)),
                (_("Sent to"), ", ".join(billing_contacts(workspace))),
            ], ""
        return [
            (_("Invoice"), invoice.number or ""),
            (_("Charged now to the card on file"), money(invoice.amount_due_cents, currency)),
        ], ""

    @staticmethod
    def _apply(
        action: str, form: Form, user: User, workspace: Workspace, invoice: Invoice | None, confirmation: str
    ) -> str:
        data = form.cleaned_data
        reason = data["reason"]
        if action == "credits":
            operations.adjust_credits(
                operator=user, workspace=workspace, credits=data["credits"], reason=reason
            )
            return _("Credits adjusted.")
        if action == "balance":
            assert isinstance(form, BalanceForm)
            amount = form.signed_cents()
            operations.adjust_balance(operator=user, workspace=workspace, amount_cents=amount, reason=reason)
            return _("Account balance credited.") if amount > 0 else _("Taken back from the account balance.")
        if action == "trial":
            result = operations.extend_trial(
                operator=user,
                workspace=workspace,
                days=data["days"],
                confirmation=confirmation,
                reason=reason,
            )
            end = result.subscription.trial_end
            return _("Trial extended: it now ends on %(day)s.") % {
                "day": format_day(end, workspace.billing_zone)
            }
        if action == "subscription":
            assert isinstance(form, SubscriptionForm)
            result = operations.apply_subscription(
                operator=user, workspace=workspace, action=data["action"], confirmation=confirmation,
                reason=reason, price_id=data["price"].pk if data.get("price") else None,
                customization=form.customization(),
            )  # fmt: skip
            if result.payment is not None and not result.payment.succeeded:
                return str(result.payment.message or _("Charge failed."))
            return _("Subscription changed.")
        assert invoice is not None
        if action == "refund":
            amount = cents(data["amount"])
            note = operations.refund(operator=user, invoice=invoice, amount_cents=amount, reason=reason)
            return _("Refunded: credit note %(number)s issued.") % {"number": note.number}
        if action == "record_payment":
            operations.record_payment(
                operator=user, invoice=invoice, reference=data["reference"], reason=reason
            )
            return _("Payment recorded.")
        if action == "void":
            operations.void_invoice(operator=user, invoice=invoice, reason=reason)
            return _("Invoice voided.")
        if action == "receipt":
            operations.resend_receipt(operator=user, invoice=invoice, reason=reason)
            return _("Receipt sent again.")
        outcome = operations.retry_charge(operator=user, invoice=invoice, reason=reason)
        return _("Charge succeeded.") if outcome.succeeded else str(outcome.message or _("Charge failed."))


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "workspace", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("email", "workspace__name")

"""Operator views: the catalog is editable; subscriptions are read-mostly.

Operators change a subscription through the services (the admin actions below call
them), never through an edit form that would bypass invoicing, proration or the audit
trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.context import operator_acting
from audit.models import Kind
from audit.services import record
from billing.services import apply_expire, preview_expire
from console.admin.base import ReadOnlyAdmin, ReadOnlyInline, bulk_reason, money_column, money_in_locale
from console.permissions import Power, may
from console.selectors import stripe_event_workspace
from gateways.stripe import events as stripe_events
from gateways.stripe.models import StripeEvent
from invoices.models import Charge
from subscriptions.models import (
    AddOn,
    PaymentMethod,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
    SubscriptionEvent,
)
from workspaces.errors import DomainError


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ("interval", "currency", "base_amount", "seat_amount", "credit_pack_amount", "is_active")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "rank", "included_seats", "seats_are_free", "max_members", "credits_flat",
                    "credits_per_seat", "credit_reset", "trial_days", "is_public", "is_free")  # fmt: skip
    list_filter = ("is_public", "credit_reset", "allows_extras")
    search_fields = ("name", "code")
    inlines = (PriceInline,)


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ("plan", "interval", "base", "seat", "credit_pack", "is_active")
    base = money_column("base_amount", _("Base price"))
    seat = money_column("seat_amount", _("Per seat"))
    credit_pack = money_column("credit_pack_amount", _("Credit pack"))
    list_filter = ("interval", "currency", "is_active", "plan")
    list_select_related = ("plan",)


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "monthly_credits", "monthly", "is_active")
    monthly = money_column("monthly_amount", _("Per month"))


class SubscriptionAddOnInline(ReadOnlyInline):
    """The add-ons held, read-only: they change on the workspace page's "Change the
    subscription" → "Extra seats and add-ons", through the customization service."""

    model = SubscriptionAddOn
    fields = ("addon", "quantity")
    readonly_fields = fields


class SubscriptionEventInline(ReadOnlyInline):
    model = SubscriptionEvent
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    ordering = ("-created_at", "-id")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("workspace", "plan", "price", "status", "current_period_end", "auto_renew", "extra_seats",
                    "past_due_since")  # fmt: skip
    list_filter = ("status", "plan", "auto_renew", "channel")
    list_select_related = ("workspace", "plan", "price")
    search_fields = ("workspace__name", "workspace__id")
    readonly_fields = ("workspace", "plan", "price", "status", "current_period_start", "current_period_end",
                       "billing_anchor_day", "trial_end", "auto_renew", "cancel_reason", "cancel_comment",
                       "canceled_at", "extra_seats", "past_due_since",
                       "trial_reminder_sent_at", "created_at", "updated_at", "channel")  # fmt: skip
    fields = readonly_fields
    # Every field is read-only: a subscription changes through the lifecycle's services (the
    # workspace page's "Change the subscription", add-ons included), never through this form.
    inlines = (SubscriptionAddOnInline, SubscriptionEventInline)
    actions = ("expire_now",)

    @admin.action(description=_("Expire now (fall back to the Free plan)"))
    def expire_now(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> TemplateResponse | None:
        if not may(request.user, Power.CHANGE_SUBSCRIPTION):  # type: ignore[arg-type]
            self.message_user(request, _("Your operator group does not allow this action."), messages.ERROR)
            return None
        subscriptions = list(queryset.select_related("workspace", "plan"))
        now = timezone.now()
        reason = bulk_reason(
            self, request, title=_("Expire now (fall back to the Free plan)"),
            rows=[_expiry_row(subscription, now) for subscription in subscriptions],
        )  # fmt: skip
        if not isinstance(reason, str):
            return reason
        done = 0
        for subscription in subscriptions:
            try:
                # The lifecycle's audit entry names the operator and their reason.
                with operator_acting(request.user, reason):  # type: ignore[arg-type]
                    apply_expire(workspace=subscription.workspace, reason="operator", now=now)
            except DomainError as exc:
                self.message_user(request, f"{subscription.workspace}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(
            request, _("%(count)d subscription(s) expired.") % {"count": done}, messages.SUCCESS
        )
        return None


def _expiry_row(subscription: Subscription, now: Any) -> tuple[str, str]:
    """What expiring one subscription does, as the confirmation lists it."""
    try:
        preview = preview_expire(workspace=subscription.workspace, reason="operator", now=now)
    except DomainError as exc:
        return str(subscription.workspace), str(exc.message)
    text = _("%(plan)s → %(free)s; credited to the account balance: %(credit)s") % {
        "plan": subscription.plan.name,
        "free": preview.outcome.get("plan_name", ""),
        "credit": money_in_locale(preview.account_credit_cents, preview.currency),
    }
    return str(subscription.workspace), str(text)


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "workspace", "kind", "actor")
    list_filter = ("kind",)
    list_select_related = ("workspace", "actor")
    search_fields = ("workspace__name",)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = (
        "workspace",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "card_token",
        "created_at",
    )
    list_select_related = ("workspace",)


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "reference", "workspace", "amount", "status", "refunded", "created_at")
    amount = money_column("amount_cents", _("Amount"))
    refunded = money_column("refunded_cents", _("Refunded"))
    list_filter = ("status",)
    list_select_related = ("workspace",)
    search_fields = ("reference", "idempotency_key", "invoice__number")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    """Stripe's events as received: failed ones can be processed again."""

    list_display = ("event_id", "type", "state", "attempts", "note", "created", "received_at")
    list_filter = ("state", "type")
    search_fields = ("event_id", "type")
    actions = ("replay_events",)

    @admin.action(description=_("Process the selected events again"))
    def replay_events(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> TemplateResponse | None:
        rows = list(queryset.order_by("received_at", "pk"))
        reason = bulk_reason(
            self, request, title=_("Process the selected events again"),
            rows=[(row.event_id, f"{row.type} · {row.get_state_display()}"
                   + (f" · {row.last_error[:200]}" if row.last_error else "")) for row in rows],
        )  # fmt: skip
        if not isinstance(reason, str):
            return reason
        done = failed = 0
        for row in rows:
            try:
                with operator_acting(request.user, reason):  # type: ignore[arg-type]
                    outcome = stripe_events.replay(row.pk)
            except Exception:
                failed += 1
                outcome = "failed"
            else:
                done += 1
            with operator_acting(request.user, reason):  # type: ignore[arg-type]
                record(
                    kind=Kind.STRIPE_EVENT_REPLAYED, workspace=stripe_event_workspace(row),
                    object_type="stripe_event", object_id=row.event_id, object_repr=row.type,
                    before={"state": row.state}, after={"outcome": outcome},
                )  # fmt: skip
        self.message_user(
            request,
            _("%(done)s event(s) processed, %(failed)s failed again.") % {"done": done, "failed": failed},
            messages.SUCCESS if not failed else messages.WARNING,
        )
        return None

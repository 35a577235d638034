"""Catalog (plans, prices, add-ons) and each workspace's subscription.

Amounts are integer minor units (cents) with the price's currency. A workspace has
exactly one subscription row; a workspace without a paid plan is on the Free plan.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from domain.credit_periods import CreditReset
from domain.periods import Interval
from workspaces.models import Workspace

#: The words of the catalog's codes (domain.periods.Interval, domain.credit_periods.CreditReset).
INTERVAL_CHOICES = [
    (Interval.WEEK.value, pgettext_lazy("billing period", "Weekly")),
    (Interval.MONTH.value, pgettext_lazy("billing period", "Monthly")),
    (Interval.YEAR.value, pgettext_lazy("billing period", "Annual")),
]
CREDIT_RESET_CHOICES = [
    (CreditReset.CALENDAR.value, _("On the 1st of each month")),
    (CreditReset.RENEWAL.value, _("On the subscription's renewal day")),
]


class Plan(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    rank = models.PositiveIntegerField(_("rank"), help_text=_("Upgrade/downgrade order: higher is better."))
    included_seats = models.PositiveIntegerField(
        _("included seats"), default=0, help_text=_("Seats covered by the base price.")
    )
    seats_are_free = models.BooleanField(
        _("free seats"), default=False, help_text=_("Every seat is free (Free and Education teams).")
    )
    max_members = models.PositiveIntegerField(_("maximum members"), default=50)
    credits_flat = models.PositiveBigIntegerField(_("flat credits"), default=0)
    credits_per_seat = models.PositiveBigIntegerField(_("credits per seat"), default=0)
    credit_reset = models.CharField(
        _("credit reset"),
        max_length=16,
        choices=CREDIT_RESET_CHOICES,
        default=CreditReset.CALENDAR,
    )
    show_credit_balance = models.BooleanField(_("shows the credit balance"), default=True)
    trial_days = models.PositiveIntegerField(_("trial days"), default=0)
    allows_extras = models.BooleanField(_("extras allowed"), default=False)
    credit_pack_size = models.PositiveBigIntegerField(
        _("credit pack size"),
        default=0,
        help_text=_("Credits per extra-credit pack (e.g. 1,000,000); 0 = not sold."),
    )
    is_free = models.BooleanField(
        _("free plan"), default=False, help_text=_("The fallback plan of every workspace.")
    )
    is_public = models.BooleanField(_("listed publicly"), default=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ("rank", "code")
        constraints = (
            models.UniqueConstraint(
                fields=("is_free",), condition=models.Q(is_free=True), name="plan_one_free"
            ),
        )

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    """A plan's price for one interval and currency: base + per billable seat."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices", verbose_name=_("plan"))
    interval = models.CharField(_("billing period"), max_length=8, choices=INTERVAL_CHOICES)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    base_amount = models.PositiveBigIntegerField(
        _("base amount (cents)"), help_text=_("Cents per period, covering the included seats.")
    )
    seat_amount = models.PositiveBigIntegerField(
        _("amount per seat (cents)"),
        default=0,
        help_text=_("Cents per period for each seat beyond the included ones."),
    )
    credit_pack_amount = models.PositiveBigIntegerField(
        _("credit pack amount (cents)"),
        default=0,
        help_text=_("Cents for one pack of extra credits (one-off purchase)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ("plan__rank", "interval")
        constraints = (
            models.UniqueConstraint(
                fields=("plan", "interval", "currency"),
                condition=models.Q(is_active=True),
                name="price_one_active_per_interval_currency",
            ),
        )

    def __str__(self) -> str:
        return f"{self.plan.name} / {self.interval} ({self.currency})"


class AddOn(models.Model):
    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    monthly_credits = models.PositiveBigIntegerField(_("monthly credits"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    monthly_amount = models.PositiveBigIntegerField(
        _("monthly amount (cents)"), default=0, help_text=_("Cents per month.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("add-on")
        verbose_name_plural = _("add-ons")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE = "mobile", _("Mobile")


class CancelReason(models.TextChoices):
    # The eight reasons (docs/rules/lifecycle.md#cancel).
    TOO_EXPENSIVE = "too_expensive", _("Cost too high")
    MISSING_FEATURES = "missing_features", _("Missing features")
    HARD_TO_USE = "hard_to_use", _("Difficult to use")
    TECHNICAL_ISSUES = "technical_issues", _("Technical problems")
    POOR_SUPPORT = "poor_support", _("Unsatisfactory customer service")
    NOT_ENOUGH_VALUE = "not_enough_value", _("Not enough added value")
    CHANGING_NEEDS = "changing_needs", _("Change of needs")
    OTHER = "other", _("Other")


class Subscription(models.Model):
    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="subscription", verbose_name=_("workspace")
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="+", verbose_name=_("price"))
    status = models.CharField(
        _("status"), max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    current_period_start = models.DateTimeField(_("current period start"))
    current_period_end = models.DateTimeField(_("current period end"))
    billing_anchor_day = models.PositiveSmallIntegerField(
        _("billing anchor day"), validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    trial_end = models.DateTimeField(_("trial end"), null=True, blank=True)
    auto_renew = models.BooleanField(_("auto-renew"), default=True)
    cancel_reason = models.CharField(
        _("cancellation reason"), max_length=32, choices=CancelReason.choices, blank=True
    )
    cancel_comment = models.TextField(_("cancellation comment"), blank=True)
    canceled_at = models.DateTimeField(_("cancellation date"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    extra_seats = models.PositiveIntegerField(
        _("extra seats"),
        default=0,
        help_text=_("Seats bought beyond the included ones, filled by members first."),
    )
    # Past due while an invoice of the workspace is failed: since the oldest one's first
    # failure. Each invoice keeps its own retries (docs/rules/dunning.md#subscription-status).
    past_due_since = models.DateTimeField(_("past due since"), null=True, blank=True)
    trial_reminder_sent_at = models.DateTimeField(_("trial reminder sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(current_period_end__gt=models.F("current_period_start")),
                name="subscription_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(billing_anchor_day__gte=1, billing_anchor_day__lte=31),
                name="subscription_anchor_day_range",
            ),
        )
        indexes = (models.Index(fields=("status", "current_period_end"), name="subscription_due"),)

    def __str__(self) -> str:
        return f"{self.workspace} · {self.plan} ({self.status})"

    def in_trial(self, now: datetime) -> bool:
        """Whether ``now`` falls within the free trial, whatever the status says: a trial
        cancelled or past due is still unpaid time until it ends (docs/rules/lifecycle.md#trial)."""
        return (
            self.trial_end is not None and now < self.trial_end and self.current_period_end == self.trial_end
        )


class SubscriptionAddOn(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="addons")
    addon = models.ForeignKey(AddOn, on_delete=models.PROTECT, related_name="+", verbose_name=_("add-on"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)

    class Meta:
        verbose_name = _("subscribed add-on")
        verbose_name_plural = _("subscribed add-ons")
        constraints = (
            models.UniqueConstraint(fields=("subscription", "addon"), name="subscription_addon_unique"),
        )

    def __str__(self) -> str:
        return f"{self.addon} × {self.quantity}"


class EventKind(models.TextChoices):
    STARTED_FREE = "started_free", _("Started on Free")
    SUBSCRIBED = "subscribed", _("Subscribed")
    TRIAL_STARTED = "trial_started", _("Trial started")
    PLAN_CHANGED = "plan_changed", _("Plan changed")
    SWITCHED_TO_ANNUAL = "switched_to_annual", _("Switched to annual billing")
    CUSTOMIZED = "customized", _("Customized")
    CANCELED = "canceled", _("Cancelled")
    REACTIVATED = "reactivated", _("Reactivated")
    RENEWED = "renewed", _("Renewed")
    TRIAL_EXTENDED = "trial_extended", _("Trial extended")
    TRIAL_ENDED = "trial_ended", _("Trial ended")
    EXPIRED = "expired", _("Expired")
    PAYMENT_SUCCEEDED = "payment_succeeded", _("Payment succeeded")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    CREDITS_REFUNDED = "credits_refunded", _("Purchased credits taken back")
    PAYMENT_METHOD_UPDATED = "payment_method_updated", _("Payment method updated")
    PAYMENT_ACTION_REQUIRED = "payment_action_required", _("Payment awaiting authentication")
    PAYMENT_DISPUTED = "payment_disputed", _("Payment disputed")
    DISPUTE_CLOSED = "dispute_closed", _("Dispute closed")


class SubscriptionEvent(models.Model):
    """Append-only audit trail of a subscription: who did what, when, with which amounts."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="subscription_events", verbose_name=_("workspace")
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="events", verbose_name=_("subscription")
    )
    kind = models.CharField(_("event"), max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("subscription event")
        verbose_name_plural = _("subscription events")
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("workspace", "kind"), name="subscription_event_ws_kind"),)

    def __str__(self) -> str:
        return f"{self.workspace} · {self.kind} · {self.created_at:%Y-%m-%d}"


class PaymentMethod(models.Model):
    """A card saved through the payment provider's page: never its number, only what a
    receipt may show (brand, last 4, expiry) and the provider's id of the card."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="payment_methods", verbose_name=_("workspace")
    )
    brand = models.CharField(_("card brand"), max_length=32)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(
        _("expiry month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    is_default = models.BooleanField(_("default"), default=True)
    #: The provider's id of the card (Stripe: the PaymentMethod's ``pm_…`` id).
    card_token = models.CharField(_("card token"), max_length=200)
    #: The expiry notice went out for this card (docs/rules/payments.md#card-expiry).
    expiry_notice_sent_at = models.DateTimeField(_("expiry notice sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("workspace",), condition=models.Q(is_default=True), name="payment_method_one_default"
            ),
            models.CheckConstraint(
                condition=models.Q(last4__regex=r"^[0-9]{4}$"), name="payment_method_last4"
            ),
            models.CheckConstraint(
                condition=models.Q(exp_month__gte=1, exp_month__lte=12), name="payment_method_exp_month"
            ),
        )

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"


class PendingChangeState(models.TextChoices):
    WAITING = "waiting", _("Awaiting authentication")
    APPLIED = "applied", _("Applied")
    LAPSED = "lapsed", _("Lapsed")


class PendingChange(models.Model):
    """A customer's change whose charge waits for 3-D Secure authentication
    (docs/rules/lifecycle.md#pay-then-apply): applied once its invoice is paid, dropped
    (the invoice voided) when it lapses. One at a time per subscription."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="pending_changes")
    invoice = models.OneToOneField(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="pending_change"
    )
    state = models.CharField(
        max_length=16, choices=PendingChangeState.choices, default=PendingChangeState.WAITING
    )
    #: The computed change, exactly as previewed and invoiced (billing.services.pending).
    change = models.BinaryField()
    token = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        "workspaces.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    lapses_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("subscription",),
                condition=models.Q(state="waiting"),
                name="pending_change_one_waiting",
            ),
        )

    def __str__(self) -> str:
        return f"{self.subscription} · {self.state}"

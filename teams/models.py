"""Paid seats and their charges (docs/rules/plans.md#seats, docs/rules/proration.md#seat-billing-periods).

A workspace's seats are its members holding a licence. The plan's included seats and
the extra seats bought in advance (``Subscription.extra_seats``) cost nothing more;
every member beyond them holds a :class:`Seat` row: a paid seat with its own billing
period (weekly, monthly or annual). A seat on the subscription's interval is
co-termed with the subscription (renewed and billed with it); a seat on another
interval renews on its own anniversary.

Adding a member who needs a paid seat records a pending :class:`SeatCharge`; the
daily seat job invoices the pending charges the day after (one invoice per workspace
and day). Removing one credits the unused time to the account balance. A change of a
seat's billing period waits on the seat (``pending_interval``) until its current paid unit
ends; no seat is renewed past its subscription's end (``paid_until``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from domain.periods import Interval
from workspaces.models import Membership, Workspace


class SeatInterval(models.TextChoices):
    WEEK = Interval.WEEK.value, pgettext_lazy("billing period", "Weekly")
    MONTH = Interval.MONTH.value, pgettext_lazy("billing period", "Monthly")
    YEAR = Interval.YEAR.value, pgettext_lazy("billing period", "Annual")


class SeatStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REMOVED = "removed", _("Removed")


class Seat(models.Model):
    """A paid seat held by one member; kept after removal (membership null) for the books."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="seats", verbose_name=_("workspace")
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="seats",
        verbose_name=_("member"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    #: Who held the seat, kept when the member (or the user) is gone.
    user_email = models.EmailField(_("holder email"))
    interval = models.CharField(_("billing period"), max_length=8, choices=SeatInterval.choices)
    #: Co-termed seats follow the subscription's period and renew with it.
    coterm = models.BooleanField(_("co-termed"), default=True)
    #: The first day of the seat's own periods (not co-termed seats renew on its anniversaries).
    anchor_date = models.DateField(_("anchor date"))
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    price_cents = models.PositiveBigIntegerField(_("price (cents)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=8, choices=SeatStatus.choices, default=SeatStatus.ACTIVE
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    #: How many times this seat's unused time was credited (each credit has its own source).
    credit_count = models.PositiveSmallIntegerField(_("unused time credits"), default=0)
    #: What its last removal put on the account balance: taken back if re-added the same day.
    last_credit_cents = models.PositiveBigIntegerField(_("last credit (cents)"), default=0)
    #: The current period is paid only up to this instant, before ``period_end``: a renewal
    #: charged up to its subscription's end (docs/rules/lifecycle.md#end-of-a-subscription-ends-its-seats).
    paid_until = models.DateTimeField(_("paid until"), null=True, blank=True)
    #: The billing period chosen for the seat, taking effect at ``pending_at``: the end of
    #: its current paid unit (docs/rules/proration.md#changing-a-seats-period); blank if none.
    pending_interval = models.CharField(
        _("next billing period"), max_length=8, choices=SeatInterval.choices, blank=True, default=""
    )
    pending_at = models.DateTimeField(_("next billing period from"), null=True, blank=True)

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        ordering = ("added_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=("membership",),
                condition=models.Q(status="active"),
                name="seat_one_active_per_membership",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="seat_period_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(status="removed") | models.Q(membership__isnull=False),
                name="seat_active_has_member",
            ),
            models.CheckConstraint(
                condition=models.Q(interval__in=SeatInterval.values), name="seat_interval_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(pending_interval="", pending_at__isnull=True)
                    | models.Q(pending_interval__in=SeatInterval.values, pending_at__isnull=False)
                ),
                name="seat_pending_interval_valid",
            ),
        )
        indexes = (
            models.Index(fields=("workspace", "status"), name="seat_workspace_status"),
            models.Index(fields=("status", "coterm", "period_end"), name="seat_renewal_due"),
            models.Index(
                fields=("pending_at",),
                condition=models.Q(pending_at__isnull=False),
                name="seat_period_change_due",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user_email} · {self.workspace} ({self.interval}, {self.status})"


class ChargeKind(models.TextChoices):
    ADDED = "added", _("Seat added")
    RENEWAL = "renewal", _("Seat renewal")
    PERIOD_CHANGE = "period_change", _("Billing period changed")
    READDED = "readded", _("Seat added again")


class ChargeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    INVOICED = "invoiced", _("Invoiced")
    CANCELED = "canceled", _("Cancelled")


class SeatCharge(models.Model):
    """A prorated seat charge waiting for the daily seat job, then the invoice line it became.

    ``day`` is the day of the seat change: the job invoices every pending charge of one
    workspace and one day on one invoice, the day after.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="seat_charges", verbose_name=_("workspace")
    )
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="charges", verbose_name=_("seat"))
    kind = models.CharField(_("kind"), max_length=16, choices=ChargeKind.choices)
    day = models.DateField(_("day"))
    amount_cents = models.PositiveBigIntegerField(_("amount (cents)"))
    #: The charge before a removal netted it (equal to ``amount_cents`` otherwise).
    original_amount_cents = models.PositiveBigIntegerField(_("original amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3)
    #: Its line's words in the default language, for operators; invoices write their own.
    description = models.CharField(_("description"), max_length=300)
    #: The proration behind the amount ("10 of 12 months"); zero for a re-added seat.
    remaining_units = models.PositiveIntegerField(_("remaining units"), default=0)
    total_units = models.PositiveIntegerField(_("total units"), default=0)
    unit = models.CharField(_("unit"), max_length=8, blank=True)
    #: What its invoice line is written from (docs/rules/invoices.md#line-words): the plan
    #: and the unit price — the seat's price for a whole period, or for a seat added again
    #: the credit taken back. None on a charge recorded before, whose line keeps ``description``.
    plan_name = models.CharField(_("plan name"), max_length=200, blank=True, default="")
    price_cents = models.PositiveBigIntegerField(_("unit price (cents)"), null=True, blank=True)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    status = models.CharField(
        _("status"), max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    invoice = models.ForeignKey(
        "invoices.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seat_charges",
        verbose_name=_("invoice"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    canceled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    #: Unused time of the seat, before VAT, credited only once this charge's invoice is
    #: paid: the seat was released while it was unpaid (docs/rules/proration.md#removing-a-seat).
    credit_withheld_cents = models.PositiveBigIntegerField(_("credit withheld (cents)"), default=0)

    class Meta:
        verbose_name = _("seat charge")
        verbose_name_plural = _("seat charges")
        ordering = ("day", "id")
        constraints = (
            # One renewal charge per seat and period: the daily job can run twice.
            models.UniqueConstraint(
                fields=("seat", "period_start"),
                condition=models.Q(kind="renewal"),
                name="seat_charge_one_renewal_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(status="invoiced") | models.Q(invoice__isnull=True),
                name="seat_charge_invoice_only_when_invoiced",
            ),
        )
        indexes = (models.Index(fields=("status", "day"), name="seat_charge_pending_day"),)

    def __str__(self) -> str:
        return f"{self.description} ({self.status})"

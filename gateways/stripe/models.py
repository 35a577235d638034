"""What the Stripe gateway keeps: each workspace's Customer, and every webhook event
received, stored once by its id before anything else (docs/rules/payments.md#webhooks)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.models import Workspace


class StripeCustomer(models.Model):
    workspace = models.OneToOneField(Workspace, on_delete=models.PROTECT, related_name="stripe_customer")
    customer_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.customer_id


class EventState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class StripeEvent(models.Model):
    """A Stripe event as delivered (or read back by the catch-up), processed by a task."""

    event_id = models.CharField(_("event ID"), max_length=200, unique=True)
    type = models.CharField(_("event type"), max_length=100, db_index=True)
    #: The event's own ``created`` (Stripe's clock).
    created = models.DateTimeField(_("created at Stripe"))
    livemode = models.BooleanField(_("live mode"), default=False)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=16, choices=EventState.choices, default=EventState.RECEIVED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    #: Why an event was ignored (not ours, a type we do not handle).
    note = models.CharField(_("note"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ("-created", "-id")
        indexes = (models.Index(fields=("state", "received_at"), name="stripe_event_state"),)

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class StripeDispute(models.Model):
    """A dispute on one of our charges: what was held when it opened, and how it closed
    (states only move forward: open, then won or lost)."""

    dispute_id = models.CharField(max_length=200, unique=True)
    charge = models.ForeignKey("invoices.Charge", on_delete=models.PROTECT, related_name="disputes")
    status = models.CharField(max_length=32)
    credits_held = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.dispute_id

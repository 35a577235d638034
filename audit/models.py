"""The audit trail's one table (docs/rules/operators.md#audit-trail).

Append-only: a trigger in the migration makes PostgreSQL refuse any UPDATE or DELETE of
a row. The workspace and the actor are references without a database constraint, so an
entry outlives them (deleting a user or a workspace never touches the trail).
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("Workspace member")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")


class Kind(models.TextChoices):
    """What was done. The code is stable (filters and CSV use it); the label is shown."""

    MEMBER_INVITED = "member.invited", _("Member invited")
    INVITATION_REVOKED = "member.invitation_revoked", _("Invitation revoked")
    MEMBER_JOINED = "member.joined", _("Member joined")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    OWNERSHIP_TRANSFERRED = "ownership.transferred", _("Ownership transferred")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    WORKSPACE_SETTINGS_CHANGED = "workspace.settings_changed", _("Workspace settings changed")
    SEAT_BILLING_PERIOD_CHANGED = "seat.billing_period_changed", _("Seat billing period changed")
    SUBSCRIPTION_CHANGED = "subscription.changed", _("Subscription changed")
    TRIAL_EXTENDED = "trial.extended", _("Trial extended")
    CREDITS_ADJUSTED = "credits.adjusted", _("Credits adjusted")
    BALANCE_ADJUSTED = "balance.adjusted", _("Account balance adjusted")
    INVOICE_REFUNDED = "invoice.refunded", _("Payment refunded")
    INVOICE_PAID_OUT_OF_BAND = "invoice.paid_out_of_band", _("Out-of-band payment recorded")
    INVOICE_VOIDED = "invoice.voided", _("Invoice voided")
    RECEIPT_RESENT = "receipt.resent", _("Receipt sent again")
    CHARGE_RETRIED = "charge.retried", _("Charge retried")
    STRIPE_EVENT_REPLAYED = "stripe_event.replayed", _("Stripe event processed again")


class AuditEntry(models.Model):
    created_at = models.DateTimeField(_("created at"), db_index=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("workspace"),
    )
    actor_kind = models.CharField(_("actor type"), max_length=16, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    #: The actor's email when the entry was written (the user row may change or go).
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    kind = models.CharField(_("kind"), max_length=64, choices=Kind.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    #: Short words naming the object (an email, an invoice number, a key's name).
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_created")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.object_repr}"

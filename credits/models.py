"""The AI credit ledger (docs/rules/credits.md).

* :class:`CreditGrant` — a bucket of credits: the plan and add-on allowances expire
  at the end of the credit period, purchased and free grants never expire.
* :class:`LedgerEntry` — append-only, signed; the balance is the sum of the ledger.
  The database itself refuses UPDATE and DELETE on it (trigger, migration 0002).
* :class:`CreditBalance` — one row per workspace: the ledger sum cached under a row
  lock (every write locks it first, which is what serialises concurrent consumers),
  the current credit period and the allowance counters used for the 80/100 % notices.
* :class:`Reservation` — credits held for an AI call in flight: captured on success,
  released on failure or after expiry (a failed action costs nothing).
* :class:`DailyUsage` — credits used per workspace and billing day (its date in the
  workspace's billing time zone), maintained in the
  same transaction as consumption, for the 30-day chart.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from workspaces.models import Workspace


class GrantBucket(models.TextChoices):
    PLAN_ALLOWANCE = "plan_allowance", _("Plan allowance")
    ADDON_ALLOWANCE = "addon_allowance", _("Add-on allowance")
    PURCHASED = "purchased", _("Purchased credits")
    FREE = "free", _("Free credits")


#: Buckets that expire at the end of the credit period (docs/rules/credits.md#grants).
ALLOWANCE_BUCKETS = (GrantBucket.PLAN_ALLOWANCE.value, GrantBucket.ADDON_ALLOWANCE.value)


class EntryKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    CONSUME = "consume", _("Consumption")
    RESERVE = "reserve", _("Reservation")
    CAPTURE = "capture", _("Capture")
    RELEASE = "release", _("Release")
    EXPIRE = "expire", _("Expiry")
    ADJUST = "adjust", _("Adjustment")


class ReservationStatus(models.TextChoices):
    HELD = "held", _("Held")
    CAPTURED = "captured", _("Captured")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


class ActionType(models.Model):
    """An AI action of the host product and its cost in credits (demo data)."""

    code = models.SlugField(_("code"), unique=True, max_length=64)
    label_fr = models.CharField(_("French label"), max_length=120)
    label_en = models.CharField(_("English label"), max_length=120)
    cost = models.PositiveIntegerField(
        _("cost in credits"), help_text=_("Credits per unit; 0 for accessibility actions.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("AI action")
        verbose_name_plural = _("AI actions")
        ordering = ("cost", "code")

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr


class CreditBalance(models.Model):
    """The workspace's cached ledger sum and current credit period; locked by every write."""

    workspace = models.OneToOneField(
        Workspace,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="credit_balance",
        verbose_name=_("workspace"),
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    allowance_total = models.BigIntegerField(_("allowance"), default=0)
    allowance_used = models.BigIntegerField(_("allowance used"), default=0)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(
        _("period end"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("The next reset (exclusive end); empty = due now."),
    )
    notified_percent = models.PositiveSmallIntegerField(_("allowance notice sent (percent)"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("credit balance")
        verbose_name_plural = _("credit balances")
        constraints = (
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="credit_balance_not_negative"),
            models.CheckConstraint(
                condition=models.Q(allowance_used__gte=0, allowance_total__gte=0),
                name="credit_balance_allowance_not_negative",
            ),
        )

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.balance}"


class CreditGrant(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.PROTECT, related_name="credit_grants", verbose_name=_("workspace")
    )
    bucket = models.CharField(_("bucket"), max_length=16, choices=GrantBucket.choices)
    amount = models.PositiveBigIntegerField(_("credits granted"))
    remaining = models.BigIntegerField(_("credits left"))
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: never expires.")
    )
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    source = models.CharField(
        _("idempotency source"),
        max_length=200,
        blank=True,
        help_text=_("Idempotency source, e.g. invoice:42."),
    )
    amount_paid_cents = models.PositiveBigIntegerField(_("amount paid (cents)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("credit grant")
        verbose_name_plural = _("credit grants")
        ordering = ("-created_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0), name="credit_grant_remaining_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("amount")),
                name="credit_grant_remaining_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(bucket__in=[b.value for b in GrantBucket]),
                name="credit_grant_bucket_valid",
            ),
            # Allowances expire with the credit period; purchased and free credits never do.
            models.CheckConstraint(
                condition=(
                    models.Q(bucket__in=ALLOWANCE_BUCKETS, expires_at__isnull=False)
                    | (~models.Q(bucket__in=ALLOWANCE_BUCKETS) & models.Q(expires_at__isnull=True))
                ),
                name="credit_grant_expiry_by_bucket",
            ),
            models.UniqueConstraint(
                fields=("workspace", "source"),
                condition=~models.Q(source=""),
                name="credit_grant_source_unique",
            ),
            # At most one live allowance per bucket: a reset expires the old one first.
            models.UniqueConstraint(
                fields=("workspace", "bucket"),
                condition=models.Q(bucket__in=ALLOWANCE_BUCKETS, expired_at__isnull=True),
                name="credit_grant_one_live_allowance",
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_bucket_display()} {self.remaining}/{self.amount}"

    @property
    def is_live(self) -> bool:
        return self.expired_at is None and self.revoked_at is None


class Reservation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.PROTECT, related_name="credit_reservations", verbose_name=_("workspace")
    )
    action = models.ForeignKey(
        ActionType, on_delete=models.PROTECT, related_name="+", verbose_name=_("AI action")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.BigIntegerField(_("credits held"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.HELD
    )
    allocations = models.JSONField(
        _("allocations"), default=list, blank=True, help_text=_("Credits held per grant.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ("-created_at",)
        indexes = (
            models.Index(
                fields=("expires_at",),
                condition=models.Q(status="held"),
                name="credit_reservation_held_expiry",
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="credit_reservation_amount_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.pk} ({self.status})"


class LedgerEntry(models.Model):
    """One append-only movement of credits; ``amount`` is signed (+ in, − out)."""

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.PROTECT,
        related_name="credit_ledger",
        db_index=False,
        verbose_name=_("workspace"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.BigIntegerField(_("credits"))
    balance_after = models.BigIntegerField(_("balance after"))
    grant = models.ForeignKey(
        CreditGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("credit grant"),
    )
    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("reservation"),
    )
    action = models.ForeignKey(
        ActionType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("AI action"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    # No database constraint: the ledger is append-only, so deleting a user must not
    # try to rewrite its entries; the id stays as the audit trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, null=True, blank=True)
    request_hash = models.CharField(_("request hash"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("workspace", "created_at"), name="credit_ledger_ws_created"),)
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "idempotency_key"), name="credit_ledger_idempotency_key"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="credit_ledger_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in EntryKind]), name="credit_ledger_kind_valid"
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} → {self.balance_after}"


class DailyUsage(models.Model):
    """Credits used per workspace and billing day (upserted with each consumption)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    credits_used = models.BigIntegerField(default=0)
    actions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("day",)
        constraints = (
            models.UniqueConstraint(fields=("workspace", "day"), name="credit_daily_usage_unique"),
        )

    def __str__(self) -> str:
        return f"{self.day}: {self.credits_used}"


class CreditNotice(models.Model):
    """An 80 % / 100 % allowance notice, recorded so it is sent once per credit period."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    threshold = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "period_start", "threshold"), name="credit_notice_once_per_period"
            ),
        )

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.period_start} {self.threshold} %"


class ApiScope(models.TextChoices):
    """What an API key may do; a key holds one or both."""

    READ = "read", _("Read the balance")
    CONSUME = "consume", _("Consume credits")


def default_api_scopes() -> list[str]:
    return [ApiScope.READ.value, ApiScope.CONSUME.value]


class ApiKey(models.Model):
    """A workspace's metering API key; only its SHA-256 is stored (shown once at creation)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("workspace")
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    #: None: the key works until revoked; otherwise it is refused from this instant on.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    #: What the key may do (docs/security.md#metering-api): read the balance, consume credits.
    scopes = ArrayField(
        models.CharField(max_length=16, choices=ApiScope.choices),
        default=default_api_scopes,
        size=2,
        verbose_name=_("scopes"),
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ("-created_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=ApiScope.values) & ~models.Q(scopes=[]),
                name="apikey_known_scopes",
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def scope_labels(self) -> list[str]:
        return [str(label) for value, label in ApiScope.choices if value in self.scopes]

"""Tenants (workspaces), the people in them and the invitations that bring them in."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.time_zones import DEFAULT_BILLING_TIME_ZONE, validate_billing_time_zone, zone_named

INVITATION_VALIDITY = timedelta(days=7)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an email address; never a tenant by itself."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.DEFAULT_USER_TIME_ZONE)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    def __str__(self) -> str:
        return self.email


class Workspace(models.Model):
    """The tenant: every piece of billing and credit data belongs to one workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    country = models.CharField(_("country"), max_length=2, default="FR")
    billing_email = models.EmailField(_("billing email"), blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    #: The zone every billing day is read in (docs/rules/billing-calendar.md#billing-time-zone).
    billing_time_zone = models.CharField(
        _("billing time zone"),
        max_length=64,
        default=DEFAULT_BILLING_TIME_ZONE,
        validators=[validate_billing_time_zone],
    )
    #: A zone chosen during a billing period, in force from ``billing_time_zone_next_at``
    #: (the end of that period) once the billing sweep applied it
    #: (docs/rules/billing-calendar.md#changing-the-zone); blank when none is pending.
    billing_time_zone_next = models.CharField(
        _("next billing time zone"), max_length=64, blank=True, validators=[validate_billing_time_zone]
    )
    billing_time_zone_next_at = models.DateTimeField(_("next billing time zone from"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ("name", "created_at")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(billing_time_zone_next="", billing_time_zone_next_at__isnull=True)
                | (~models.Q(billing_time_zone_next="") & models.Q(billing_time_zone_next_at__isnull=False)),
                name="workspace_next_billing_time_zone_dated",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="workspace_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="workspace_country_iso"
            ),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def billing_zone(self) -> ZoneInfo:
        """The zone this workspace's billing days are read in now."""
        return zone_named(self.billing_time_zone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    BILLING_ADMIN = "billing_admin", _("Billing admin")
    MEMBER = "member", _("Member")
    GUEST = "guest", _("Guest")
    VISITOR = "visitor", _("Visitor")


class Membership(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("workspace")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("joined"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ("created_at", "id")
        constraints = (
            models.UniqueConstraint(fields=("workspace", "user"), name="membership_unique_user"),
            models.UniqueConstraint(
                fields=("workspace",),
                condition=models.Q(role="owner"),
                name="membership_one_owner",
            ),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        )

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace} ({self.role})"


def _new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def new_invitation_token() -> tuple[str, str]:
    """A fresh invitation link token and its SHA-256, which is all the database keeps."""
    token = _new_invitation_token()
    return token, hash_invitation_token(token)


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("workspace")
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    #: The SHA-256 of the link's token; the token itself is only in the email (and, as
    #: ``token``, on the instance that made it) (docs/security.md#invitations).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    #: The plain link token, on the instance returned by the service that created or
    #: renewed it (for its email); never stored.
    token: str = ""

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(condition=~models.Q(role="owner"), name="invitation_not_owner"),
            models.UniqueConstraint(
                "workspace",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            ),
        )

    def __str__(self) -> str:
        return f"{self.email} → {self.workspace}"

    def is_expired(self, now: Any = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

"""Workspace API keys for the metering API: shown once, stored as SHA-256, revocable, with
scopes (read, consume) and an optional expiry (docs/security.md#metering-api)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.models import Kind as AuditKind
from audit.services import record as audit_record
from credits import errors, sql
from credits.models import ApiKey, ApiScope, default_api_scopes
from workspaces.models import Membership, User, Workspace
from workspaces.permissions import Capability
from workspaces.services import require_capability

KEY_PREFIX = "sck_"
#: ``last_used_at`` is written at most this often, to keep the hot path read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    workspace: Workspace,
    actor: Membership | None,
    name: str,
    created_by: User | None = None,
    now: datetime | None = None,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the plain key, which is never shown again.

    ``actor`` is the member doing it from the web (owners and admins only); the
    ``create_api_key`` command passes ``None`` and is trusted as an operator. ``scopes``
    defaults to both; ``expires_at``, when given, must be in the future.
    """
    if actor is not None:
        require_capability(actor, Capability.MANAGE_API_KEYS)
        if actor.workspace_id != workspace.pk:
            raise errors.ApiKeyNotFound()
        created_by = actor.user
    name = (name or "").strip()
    if not name:
        raise errors.ApiKeyNameRequired()
    now = now or timezone.now()
    scopes = default_api_scopes() if scopes is None else scopes
    if not scopes or not set(scopes) <= set(ApiScope.values):
        raise errors.ApiKeyScopesRequired()
    scopes = [scope for scope in ApiScope.values if scope in scopes]  # each once, in order
    if expires_at is not None and expires_at <= now:
        raise errors.ApiKeyExpiryInPast()
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():  # 1 in 4 billion, but unique
        prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        workspace=workspace,
        name=name[:80],
        prefix=prefix,
        key_hash=hash_key(key),
        created_by=created_by,
        created_at=now,
        scopes=scopes,
        expires_at=expires_at,
    )
    api_key.full_clean()
    api_key.save()
    audit_record(
        kind=AuditKind.API_KEY_CREATED, workspace=workspace, actor=created_by,
        object_type="api_key", object_id=api_key.pk, object_repr=f"{api_key.name} ({prefix})",
        after={"name": api_key.name}, now=now,
    )  # fmt: skip
    return api_key, key


@transaction.atomic
def api_key_revoke(
    *, workspace: Workspace, actor: Membership, api_key_id: int, now: datetime | None = None
) -> ApiKey:
    """Revoke a key of this workspace at once (idempotent)."""
    require_capability(actor, Capability.MANAGE_API_KEYS)
    api_key = ApiKey.objects.select_for_update().filter(workspace=workspace, pk=api_key_id).first()
    if api_key is None or actor.workspace_id != workspace.pk:
        raise errors.ApiKeyNotFound()
    if api_key.revoked_at is None:
        api_key.revoked_at = now or timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            kind=AuditKind.API_KEY_REVOKED, workspace=workspace, actor=actor.user,
            object_type="api_key", object_id=api_key.pk, object_repr=f"{api_key.name} ({api_key.prefix})",
            before={"revoked_at": None}, after={"revoked_at": api_key.revoked_at}, now=api_key.revoked_at,
        )  # fmt: skip
    return api_key


_AUTHENTICATE = """
SELECT k.id, k.workspace_id, k.name, k.prefix, k.last_used_at, k.expires_at, k.scopes,
       w.name, w.currency, w.country, w.billing_time_zone
FROM credits_apikey k JOIN workspaces_workspace w ON w.id = k.workspace_id
WHERE k.key_hash = %(hash)s AND k.revoked_at IS NULL
  AND (k.expires_at IS NULL OR k.expires_at > %(now)s)
"""
_KEY_FIELDS = ["id", "workspace_id", "name", "prefix", "last_used_at", "expires_at", "scopes"]


def api_key_authenticate(*, key: str, now: datetime | None = None) -> ApiKey | None:
    """The active, unexpired key matching ``key``, with its workspace, or None (one
    prepared query: every metering call starts here)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    now = now or timezone.now()
    with sql.hot_cursor() as cursor:
        cursor.execute(_AUTHENTICATE, {"hash": hash_key(key), "now": now}, prepare=sql.prepare())
        row = cursor.fetchone()
    if row is None:
        return None
    # from_db takes the values in the model's field order.
    fields = len(_KEY_FIELDS)
    api_key = ApiKey.from_db("default", _KEY_FIELDS, row[:fields])
    # Every field the metering path reads, so none is fetched again per call (the billing
    # time zone dates the credit period).
    api_key.workspace = Workspace.from_db(
        "default", ["id", "name", "currency", "country", "billing_time_zone"], (row[1], *row[fields:])
    )
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key

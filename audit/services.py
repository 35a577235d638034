"""Writing the audit trail: one entry per write (docs/rules/operators.md#audit-trail).

Services call :func:`record` inside their own transaction, so the entry exists exactly
when the change does. The actor is the operator when one is acting
(:func:`audit.context.operator_acting`), else the member passed, else the system.
:func:`record_changes` writes an entry only when a value changed, with the values that
did. Workspaces, below this app, send :data:`workspaces.signals.workspace_settings_changed`
instead (:mod:`audit.receivers`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from audit import context
from audit.models import ActorKind, AuditEntry, Kind
from workspaces.models import User, Workspace


def record(
    *,
    kind: Kind,
    workspace: Workspace | None,
    actor: User | None = None,
    object_type: str = "",
    object_id: object = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> AuditEntry:
    """Append one entry. ``actor`` is the member who acted (``None``: a scheduled job).
    Inside an operator's action the operator is the actor and their reason the reason."""
    acting = context.operator()
    if acting is not None:
        actor, actor_kind, reason = acting.user, ActorKind.OPERATOR, acting.reason
    elif actor is not None:
        actor_kind = ActorKind.USER
    else:
        actor_kind = ActorKind.SYSTEM
    return AuditEntry.objects.create(
        created_at=now or timezone.now(),
        workspace=workspace,
        actor_kind=actor_kind,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        kind=kind,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:255],
        before=before or {},
        after=after or {},
        reason=reason.strip(),
        ip_address=context.ip_address(),
    )


def record_changes(
    *,
    kind: Kind,
    workspace: Workspace | None,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: User | None = None,
    object_type: str = "",
    object_id: object = "",
    object_repr: str = "",
    now: datetime | None = None,
) -> AuditEntry | None:
    """Append one entry naming only the values that differ between ``before`` and
    ``after`` (both the same keys, the state before and after the write); nothing when
    none does."""
    changed = [key for key in after if before.get(key) != after[key]]
    if not changed:
        return None
    return record(
        kind=kind,
        workspace=workspace,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        before={key: before.get(key) for key in changed},
        after={key: after[key] for key in changed},
        now=now,
    )

"""The entries of the writes made below this app: workspaces may not import the audit
trail (docs/architecture.md), so it sends a signal in the write's transaction and the
receiver here records it (connected by :meth:`audit.apps.AuditConfig.ready`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.models import Kind
from audit.services import record_changes
from workspaces.models import User, Workspace
from workspaces.signals import workspace_settings_changed


def workspace_settings_recorded(
    sender: object,
    *,
    workspace: Workspace,
    actor: User | None,
    object_type: str,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime | None = None,
    **kwargs: Any,
) -> None:
    """One entry per settings write, with the values that changed."""
    record_changes(
        kind=Kind.WORKSPACE_SETTINGS_CHANGED, workspace=workspace, actor=actor,
        object_type=object_type, object_id=workspace.pk, object_repr=workspace.name,
        before=before, after=after, now=now,
    )  # fmt: skip


def connect() -> None:
    workspace_settings_changed.connect(workspace_settings_recorded, dispatch_uid="audit.workspace_settings")

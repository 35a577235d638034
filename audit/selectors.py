"""Reading the audit trail, scoped by workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from audit.models import AuditEntry, Kind
from workspaces.models import Workspace


def entries_of(workspace: Workspace, *, kind: str = "") -> QuerySet[AuditEntry]:
    """The workspace's entries, newest first, optionally of one kind (an unknown kind
    matches nothing rather than everything)."""
    entries = AuditEntry.objects.filter(workspace=workspace).select_related("actor")
    if kind:
        entries = entries.filter(kind=kind) if kind in Kind.values else entries.none()
    return entries.order_by("-created_at", "-id")

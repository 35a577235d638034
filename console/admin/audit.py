"""The whole audit trail for operators (docs/rules/operators.md#activity-page): read-only,
as the database refuses any change to it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audit import presentation
from audit.models import AuditEntry
from console.admin.base import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "workspace", "actor_kind", "actor_email", "kind", "object_repr", "changes",
                    "reason")  # fmt: skip
    list_filter = ("kind", "actor_kind")
    search_fields = ("=workspace__id", "workspace__name", "actor_email", "object_repr", "reason")
    list_select_related = ("workspace",)
    date_hierarchy = "created_at"

    @admin.display(description=_("Changes"))
    def changes(self, entry: AuditEntry) -> str:
        return presentation.summary(entry, get_language() or "fr")

"""Operators' dead-letter view: the outbox rows, read-only, with a "retry" action for the
ones given up."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from outbox import services
from outbox.models import Message, Status


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "name", "status", "attempts", "created_at", "next_attempt_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("name", "stream", "request_id")
    ordering = ("-id",)
    actions = ["retry_messages"]
    readonly_fields = [
        "kind", "name", "payload", "stream", "status", "attempts", "created_at",
        "next_attempt_at", "locked_until", "claimed_by", "sent_at", "last_error", "request_id",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).defer("payload")

    @admin.action(description=gettext_lazy("Retry the selected messages that were given up"))
    def retry_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        pks = list(queryset.filter(status=Status.DEAD).values_list("pk", flat=True))
        count = services.retry(pks)
        self.message_user(
            request, gettext("%(count)d message(s) queued again.") % {"count": count}, messages.SUCCESS
        )

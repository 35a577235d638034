"""The "Activité" page: a workspace's audit trail for its owner and admins, paginated,
filtered by kind, and exported as CSV (docs/rules/operators.md#activity-page)."""

from __future__ import annotations

import csv
import io

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit import presentation, selectors
from audit.models import Kind
from workspaces.access import WorkspaceRequest, workspace_view
from workspaces.permissions import Capability
from workspaces.templatetags.formatting import active_locale

PAGE_SIZE = 25


@workspace_view(Capability.VIEW_ACTIVITY)
@require_GET
def activity(request: WorkspaceRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    entries = selectors.entries_of(request.workspace, kind=kind)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    locale = active_locale()
    rows = [(entry, presentation.changes(entry, locale)) for entry in page.object_list]
    return render(
        request,
        "audit/activity.html",
        {"nav": "activity", "page": page, "rows": rows, "kinds": Kind.choices, "kind": kind},
    )


@workspace_view(Capability.VIEW_ACTIVITY)
@require_GET
def activity_csv(request: WorkspaceRequest) -> HttpResponse:
    locale = active_locale()
    zone = timezone.get_current_timezone()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Date"),
            _("Actor"),
            _("Actor type"),
            _("Action"),
            _("Code"),
            _("Object"),
            _("Changes"),
            _("Reason"),
            _("IP address"),
        ]  # fmt: skip
    )
    for entry in selectors.entries_of(request.workspace, kind=request.GET.get("kind", "")).iterator():
        writer.writerow(
            [
                entry.created_at.astimezone(zone).isoformat(timespec="seconds"),
                entry.actor_email,
                entry.get_actor_kind_display(),
                entry.get_kind_display(),
                entry.kind,
                entry.object_repr,
                presentation.summary(entry, locale),
                entry.reason,
                entry.ip_address or "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="activity.csv"'
    return response

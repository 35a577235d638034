"""The app's URLs plus the subscription page benchmark's floor page (bench only).

The floor runs 5 simple queries and renders a template of about the Overview's size
(``?bytes=``), through the same server and middleware as the Overview.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns
from invoices.models import Invoice
from subscriptions.models import Plan
from workspaces.models import Membership, User, Workspace

FLOOR_TEMPLATE = engines["django"].from_string(
    """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{{ workspace.name }}</title></head>
<body><h1>{{ workspace.name }}</h1><p>{{ user.email }} · {{ members }} · {{ plan.name }} · {{ invoices }}</p>
<ul>{% for row in rows %}<li class="row"><span>{{ workspace.name }} {{ row }}</span> <em>{{ plan.code }}</em></li>
{% endfor %}</ul></body></html>"""
)
#: Bytes one row of the list renders to, about.
ROW_BYTES = 57


def floor(request: HttpRequest, workspace_id: str) -> HttpResponse:
    size = max(0, min(int(request.GET.get("bytes", "20000")), 2_000_000))
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    user = User.objects.filter(email="admin@demo.test").first()
    members = Membership.objects.filter(workspace_id=workspace_id).count()
    plan = Plan.objects.filter(is_free=True).first()
    invoices = Invoice.objects.filter(workspace_id=workspace_id).count()
    context = {
        "workspace": workspace,
        "user": user,
        "members": members,
        "plan": plan,
        "invoices": invoices,
        "rows": range(size // ROW_BYTES),
    }
    return HttpResponse(FLOOR_TEMPLATE.render(context))


urlpatterns = [
    path("bench/floor/<uuid:workspace_id>/", floor),
    *app_urlpatterns,
]

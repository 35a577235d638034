from django.contrib import admin
from django.urls import include, path, re_path

from audit.urls import tenant_urlpatterns as audit_tenant_urls
from billing.pages.urls import tenant_urlpatterns as subscription_page_urls
from billing.pages.urls import urlpatterns as billing_public_urls
from config import health
from credits.api import api as credits_api
from credits.api import api_not_found
from credits.urls import tenant_urlpatterns as credit_tenant_urls
from gateways.stripe.urls import tenant_urlpatterns as stripe_tenant_urls
from gateways.stripe.urls import urlpatterns as stripe_public_urls
from invoices.urls import tenant_urlpatterns as invoice_tenant_urls
from teams.urls import tenant_urlpatterns as team_tenant_urls
from teams.urls import urlpatterns as team_public_urls
from workspaces.urls import urlpatterns as workspace_public_urls
from workspaces.urls import workspace_urlpatterns

# Every tenant page lives under /<workspace_id>/workspace/ and is guarded by
# workspaces.access.workspace_view (404 for non-members, 403 per the policy).
tenant_urlpatterns = [
    *workspace_urlpatterns,
    *team_tenant_urls,
    *invoice_tenant_urls,
    *credit_tenant_urls,
    *subscription_page_urls,
    *stripe_tenant_urls,
    *audit_tenant_urls,
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="prometheus-metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", credits_api.urls),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
    path("<uuid:workspace_id>/workspace/", include(tenant_urlpatterns)),
    *workspace_public_urls,
    *billing_public_urls,
    *team_public_urls,
    *stripe_public_urls,
]

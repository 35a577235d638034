from django.contrib import admin
from django.urls import include, path

from workspaces.urls import urlpatterns as workspace_public_urls
from workspaces.urls import workspace_urlpatterns

# Every tenant page lives under /<workspace_id>/workspace/ and is guarded by
# workspaces.access.workspace_view (404 for non-members, 403 per the policy).
tenant_urlpatterns = [
    *workspace_urlpatterns,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("<uuid:workspace_id>/workspace/", include(tenant_urlpatterns)),
    *workspace_public_urls,
]

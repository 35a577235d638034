from django.urls import path

from audit import views

# Served under "<uuid:workspace_id>/workspace/" (config/urls.py tenant_urlpatterns).
tenant_urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("activity/export.csv", views.activity_csv, name="activity_csv"),
]

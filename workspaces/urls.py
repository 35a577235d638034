from django.urls import path

from workspaces import views

# Served under "<uuid:workspace_id>/workspace/".
workspace_urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
    # The members page and its actions are served by teams.urls (docs/rules/proration.md).
]

urlpatterns = [
    path("", views.home, name="home"),
]

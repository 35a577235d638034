from django.urls import path

from credits import views

# Served under "<uuid:workspace_id>/workspace/".
tenant_urlpatterns = [
    path("ai/", views.ai_actions, name="ai_actions"),
    path("ai/run/", views.ai_action_run, name="ai_action_run"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:api_key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]

from django.urls import path

from workspaces import views

# Served under "<uuid:workspace_id>/workspace/".
workspace_urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/<int:membership_id>/role/", views.member_change_role, name="member_change_role"),
    path("members/<int:membership_id>/transfer/", views.ownership_transfer, name="ownership_transfer"),
    path("invitations/<uuid:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("workspaces/", views.workspace_list, name="workspace_list"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

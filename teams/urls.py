from django.urls import path

from teams import views

# Served under "<uuid:workspace_id>/workspace/" (config/urls.py tenant_urlpatterns).
tenant_urlpatterns = [
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/<int:membership_id>/role/", views.member_change_role, name="member_change_role"),
    path("members/<int:membership_id>/transfer/", views.ownership_transfer, name="ownership_transfer"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "members/<int:membership_id>/billing-period/", views.seat_billing_period, name="seat_billing_period"
    ),
    path("invitations/<uuid:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
]

# Outside the workspace pages: the link an invitee receives.
urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

from django.urls import path

from gateways.local import views

# Served under "<uuid:workspace_id>/workspace/" (config/urls.py).
tenant_urlpatterns = [
    path("subscription/payment-method/", views.payment_method_update, name="subscription_payment_method"),
]

# Outside the workspace pages: the local gateway's secure payment page.
urlpatterns = [
    path("pay/setup/<str:token>/", views.pay_setup, name="payment_setup"),
]

from django.urls import path

from gateways.local import views

# Outside the workspace pages: the local gateway's secure payment page.
urlpatterns = [
    path("pay/setup/<str:token>/", views.pay_setup, name="payment_setup"),
]

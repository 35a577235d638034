"""The Stripe pages under "<uuid:workspace_id>/workspace/", and the webhook endpoint."""

from django.urls import path

from gateways.stripe import pages, webhooks

tenant_urlpatterns = [
    path("payment/card/", pages.card_setup, name="stripe_card_setup"),
    path(
        "payment/invoices/<int:invoice_id>/authenticate/",
        pages.charge_authenticate,
        name="stripe_charge_authenticate",
    ),
]

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
]

from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    name = "gateways.stripe"
    label = "stripe_gateway"
    verbose_name = "Stripe"
    default_auto_field = "django.db.models.BigAutoField"

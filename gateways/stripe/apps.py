from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StripeGatewayConfig(AppConfig):
    name = "gateways.stripe"
    label = "stripe_gateway"
    verbose_name = _("Stripe payments")
    default_auto_field = "django.db.models.BigAutoField"

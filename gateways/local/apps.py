from django.apps import AppConfig


class LocalGatewayConfig(AppConfig):
    """The offline ``local`` payment gateway and its secure card page."""

    name = "gateways.local"
    label = "local_gateway"

from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Orchestration of a workspace's account: subscription lifecycle, payments and dunning,
    renewals and seat billing, the scheduled sweeps and the subscription pages."""

    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data ``make run`` loads (``manage.py seed_demo``): Acme and Studio."""

    name = "demo"

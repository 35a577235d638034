from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The operators' console: the Django admin's registrations for every app, whose
    actions go through the same services as the customers' own."""

    name = "console"
    verbose_name = "Operators' console"

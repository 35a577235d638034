from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The operators' console: the Django admin's registrations for every app, whose
    actions go through the same services as the customers' own."""

    name = "console"
    verbose_name = _("Operators' console")

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        from console.groups import grant_read_permissions

        # The admin's login page is allauth's: its login-attempt limits and the second
        # factor apply (docs/rules/operators.md#admin-security).
        admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
        admin.site.site_header = admin.site.site_title = _("SeatCredit operators")
        admin.site.index_title = _("Operators' console")

        # After django.contrib.auth's own handler (an earlier app) created the permissions.
        post_migrate.connect(grant_read_permissions, sender=self, dispatch_uid="console_read_permissions")

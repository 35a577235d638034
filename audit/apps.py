from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit trail: an append-only record of who changed what, for workspace admins,
    operators and scheduled jobs alike (docs/rules/operators.md#audit-trail)."""

    name = "audit"
    verbose_name = _("Audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The writes of the apps below this one reach the trail by signal (audit.receivers).
        from audit import receivers

        receivers.connect()

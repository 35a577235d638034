"""The outbox (docs/architecture.md#outbox): emails and follow-up tasks written as rows in
the transaction of the change that causes them, delivered afterwards by a worker."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    EMAIL = "email", _("Email")
    TASK = "task", _("Task")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    #: Given up after ``OUTBOX_MAX_ATTEMPTS``: waits for an operator (the admin's retry).
    DEAD = "dead", _("Given up")


class Message(models.Model):
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    #: The task's name, or the email's subject (for the operators' list).
    name = models.CharField(_("name"), max_length=255)
    #: A task's arguments, or the email itself (outbox.mail).
    payload = models.JSONField(_("payload"))
    #: Messages of one stream are delivered one at a time, in the order they were written.
    stream = models.CharField(_("stream"), max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    #: Claimed by a worker until then; a worker that died leaves it to lapse.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    #: The worker that claimed it last (Celery's worker name, or host:pid).
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    #: The request that wrote it, carried into the logs of its delivery.
    request_id = models.CharField(_("request ID"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=Q(status="pending")),
            models.Index(
                fields=["stream", "id"], name="outbox_stream_pending", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}: {self.name}"

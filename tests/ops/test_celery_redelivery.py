"""A task whose worker died comes back after the visibility timeout, fitted to the longest a
task may run (finding: acks_late without one left it for an hour)."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_the_visibility_timeout_is_just_above_the_longest_task():
    app.loader.import_default_modules()  # every app's tasks, as a worker loads them
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    limits = [settings.CELERY_TASK_TIME_LIMIT] + [
        task.time_limit for task in app.tasks.values() if getattr(task, "time_limit", None)
    ]
    longest = max(limits)
    assert longest == 300
    # Above the longest run (a task still running is never handed out twice), and
    # minutes rather than Redis's default hour for a task whose worker died.
    assert timeout == 360
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True

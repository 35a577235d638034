"""Queueing Celery tasks by name, so that a service never imports the tasks module that
imports it back (tasks are entry points: they import services, never the reverse).

The task's module (its name's dotted path) is imported before the first call, as a
worker imports the apps' ``tasks`` modules at start, so the task is registered and the call honours ``CELERY_TASK_ALWAYS_EAGER`` as
``task.delay`` would; an unknown name fails loudly.
"""

from __future__ import annotations

import importlib
from typing import Any

from celery import current_app


def enqueue(task_name: str, *args: Any, countdown: float | None = None, inline: bool = False) -> None:
    """Queue the task, or with ``inline`` run it here and now as a worker would (the
    synchronous ``billing_tick``)."""
    if task_name not in current_app.tasks:
        # Task names are their module's dotted path: importing it registers the task.
        importlib.import_module(task_name.rpartition(".")[0])
    task = current_app.tasks[task_name]
    if inline:
        task.apply(args)
    else:
        task.apply_async(args, countdown=countdown)

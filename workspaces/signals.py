"""What workspaces tells the apps above it, which it may not import
(docs/architecture.md): the audit trail records each of these
(docs/rules/operators.md#audit-trail).

``workspace_settings_changed`` is sent inside the transaction of the write, once per
write that changed something, with:

- ``workspace``: the workspace, as written;
- ``actor``: the member's user who made the change (``None``: a scheduled job);
- ``object_type``: what was changed (``"workspace"``);
- ``before`` and ``after``: the values that changed, before and after, same keys;
- ``now``: when (``None``: the current time).
"""

from __future__ import annotations

from django.dispatch import Signal

workspace_settings_changed = Signal()

"""The demo history, played in date order across workspaces.

Invoice and credit-note numbers follow the order of issue (docs/rules/invoices.md#numbering),
so the demo's dated operations of every workspace are merged into one timeline and run
oldest first: a number dated 1 January never comes after one dated 28 October.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import datetime

#: One dated operation of the demo history.
Step = tuple[datetime, Callable[[], object]]


def play(*histories: Iterable[Step]) -> None:
    """Run every step of every history in date order (ties keep their history's order)."""
    for _when, step in heapq.merge(*(sorted(h, key=lambda s: s[0]) for h in histories), key=lambda s: s[0]):
        step()

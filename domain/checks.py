"""Checks on raw input values, written once (``True`` is an ``int`` in Python, never a count)."""

from __future__ import annotations

from typing import TypeGuard


def is_int(value: object) -> TypeGuard[int]:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_count(value: object, low: int, high: int) -> TypeGuard[int]:
    """An ``int`` (not a ``bool``) between ``low`` and ``high`` included."""
    return is_int(value) and low <= value <= high


def require_int(value: object, name: str) -> int:
    """``value`` itself when it is an ``int`` (not a ``bool``), else :class:`TypeError`
    naming ``name``: for pure functions that refuse a float or a bool as an amount."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value

"""The request id (django-guid) of the request that wrote a row, set again while a worker
delivers it, so that its logs carry the same id."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def request_id(value: str) -> Iterator[None]:
    if not value:
        yield
        return
    from django_guid import get_guid, set_guid

    previous = get_guid()
    set_guid(value)
    try:
        yield
    finally:
        set_guid(previous)  # type: ignore[arg-type]

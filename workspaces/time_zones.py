"""The billing time zones a workspace can choose (docs/rules/billing-calendar.md#billing-time-zone).

The choices are the IANA zones of :func:`zoneinfo.available_timezones` named
``Area/Location`` (Europe/Paris, America/New_York…), plus UTC; the legacy aliases
(``CET``, ``Etc/GMT+1``, ``posixrules``…) are left out, and so is a zone the database
does not know yet (its time zone data can be older than Python's): the sweeps read
billing days in SQL too (``AT TIME ZONE``). Every rule that speaks of a day reads it in
the workspace's zone.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DateField, DateTimeField, F, Func, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

#: Every new workspace reads its billing days in Paris.
DEFAULT_BILLING_TIME_ZONE = "Europe/Paris"

_NOT_LOCATIONS = ("Etc/", "SystemV/", "posix/", "right/")

UNKNOWN_TIME_ZONE = _("“%(value)s” is not a time zone. Choose one from the list, such as Europe/Paris.")


@functools.cache
def billing_time_zones() -> tuple[str, ...]:
    """The zones offered, sorted (read once per process: one query)."""
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if name == "UTC" or ("/" in name and not name.startswith(_NOT_LOCATIONS))
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_timezone_names WHERE name = ANY(%s)", [names])
        known = {row[0] for row in cursor.fetchall()}
    return tuple(name for name in names if name in known)


def is_billing_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in billing_time_zones()


@functools.cache
def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone of a stored name (validated when it was chosen)."""
    return zoneinfo.ZoneInfo(name)


def validate_billing_time_zone(value: str) -> None:
    """Model validator: one of :func:`billing_time_zones` (blank is the field's business)."""
    if value and not is_billing_time_zone(value):
        raise ValidationError(UNKNOWN_TIME_ZONE, code="unknown_time_zone", params={"value": value})


def billing_day_sql(now: datetime, zone_field: str = "workspace__billing_time_zone") -> Cast:
    """The billing day of ``now`` for each row, in SQL: its date in the billing time zone
    of the row's workspace (``(now AT TIME ZONE zone)::date``), for set-based sweeps."""
    local = Func(F(zone_field), Value(now, output_field=DateTimeField()), function="timezone")
    return Cast(local, DateField())

"""Writing many rows at once with PostgreSQL's ``COPY`` (the issuing path and the renewal
sweep write thousands of documents, lines and entries per batch)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb


def copy_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """``COPY`` rows into ``model``'s table; missing fields take the model's defaults."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    defaults = {f.attname: f.get_default() for f in fields}
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    [
                        Jsonb(row.get(n, defaults[n])) if n in json_fields else row.get(n, defaults[n])
                        for n in names
                    ]
                )

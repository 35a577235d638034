"""Run every registered benchmark and print one table: ``python -m bench [name ...]``.

A benchmark is a module exposing ``run() -> list[dict]``; each row has ``name``, ``value``
(seconds), ``floor`` (seconds, the reference measured in the same run), ``ratio``
(value / floor), ``limit`` (the highest acceptable ratio) and ``ok``. Register a module by
adding its dotted path to ``MODULES``.

The benchmarks run against a throwaway database (created and dropped here), with the
test settings, so they never touch development data.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from typing import Any

MODULES = [
    "bench.invoice_pdf",
    "bench.facturx",
    "bench.credits_consume",
    "bench.renewals",
    "bench.subscription_page",
    "bench.operators_dashboard",
]

COLUMNS = ("name", "value", "floor", "ratio", "limit", "ok")


def _cell(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.2f}" if key in ("ratio", "limit") else f"{value:.4f}s"
    return str(value)


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [list(COLUMNS)] + [[_cell(k, row.get(k, "")) for k in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
             for line in cells]  # fmt: skip
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    from config.reference_data import load_reference_data

    selected = [m for m in MODULES if not argv or m.rsplit(".", 1)[-1] in argv]
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_seatcredit"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-media-") as media, override_settings(MEDIA_ROOT=media):
            for module_name in selected:
                # Each benchmark starts from an empty database with the catalogs in place.
                call_command("flush", interactive=False, verbosity=0)
                load_reference_data()
                rows.extend(importlib.import_module(module_name).run())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        from config import embedded

        embedded.stop()
    print(format_table(rows))
    return 0 if all(row.get("ok") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

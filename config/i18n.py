"""Compile the project's translations (``locale/*/LC_MESSAGES/django.po``) with Babel.

Babel is a runtime dependency already, so no system gettext is needed; ``make setup``
and the test suite call this, and it only rewrites catalogs whose source changed.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"


def catalogs(base_dir: Path = BASE_DIR) -> list[Path]:
    """The project's catalog and each app's own (``<app>/locale/``)."""
    found = [*base_dir.glob("locale/*/LC_MESSAGES/*.po"), *base_dir.glob("*/locale/*/LC_MESSAGES/*.po")]
    return sorted(p for p in found if ".venv" not in p.parts)


def compile_messages(base_dir: Path = BASE_DIR) -> list[Path]:
    written = []
    for po_path in catalogs(base_dir):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_messages():
        print(f"compiled {path.relative_to(BASE_DIR)}")

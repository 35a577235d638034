"""Hand-written mutants of the rules that live in SQL or next to the database.

``make mutation`` runs mutmut over the pure modules (docs/mutation-testing.md). Two rules
it cannot reach: the consumption order of AI credits is an ``ORDER BY`` inside a SQL
string, and invoice numbering reserves its numbers on a locked counter row. Each mutant
below is one textual change of that code; this script copies the tree to a temporary
folder, applies the mutants there one at a time (the working tree is never touched) and
runs the database tests that must kill them, each run with its own PostgreSQL and Redis.

Run it with ``python -m tests.mutants_db [TREE]`` (TREE: the checkout to copy, by default
this one); it exits 1 when a mutant survives, or when its text is no longer in the code
(the list must then follow the code).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".git", ".venv", "var", "mutants", "artifacts", ".hypothesis", ".mypy_cache", ".ruff_cache"}

CREDIT_TESTS = (
    "tests/credits/test_consumption_order.py",
    "tests/credits/test_grants.py",
    "tests/credits/test_seed000_rules.py",
)
NUMBER_TESTS = (
    "tests/invoices/test_numbering.py",
    "tests/invoices/test_numbering_series.py",
    "tests/billing/test_credits_carry_vat.py",
)
ORDER = "ORDER BY g.expires_at ASC NULLS LAST, g.created_at, g.id"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]
    #: Why the mutant cannot change what the product does, when it cannot.
    equivalent: str = ""


MUTANTS = (
    Mutant(
        "credit order: purchased and free credits before the allowance",
        "credits/sql.py",
        ORDER,
        "ORDER BY g.expires_at ASC NULLS FIRST, g.created_at, g.id",
        CREDIT_TESTS,
    ),
    Mutant(
        "credit order: the latest-expiring grant first",
        "credits/sql.py",
        ORDER,
        "ORDER BY g.expires_at DESC NULLS LAST, g.created_at, g.id",
        CREDIT_TESTS,
        equivalent="every spendable expiring grant of a workspace ends with its credit period",
    ),
    Mutant(
        "credit order: the newest grant first",
        "credits/sql.py",
        ORDER,
        "ORDER BY g.expires_at ASC NULLS LAST, g.created_at DESC, g.id",
        CREDIT_TESTS,
    ),
    Mutant(
        "credit order: the order grants were recorded in, not their age",
        "credits/sql.py",
        ORDER,
        "ORDER BY g.expires_at ASC NULLS LAST, g.id",
        CREDIT_TESTS,
    ),
    Mutant(
        "numbering: the UTC year instead of the seller's",
        "invoices/issuing.py",
        "return issued_at.astimezone(ZoneInfo(settings.SELLER_TIME_ZONE)).year",
        "return issued_at.year",
        NUMBER_TESTS,
    ),
    Mutant(
        "numbering: the first number reuses the last one",
        "invoices/issuing.py",
        "first = counter.last_number + 1",
        "first = counter.last_number",
        NUMBER_TESTS,
    ),
    Mutant(
        "numbering: the counter moves by one whatever the count",
        "invoices/issuing.py",
        "counter.last_number += count",
        "counter.last_number += 1",
        NUMBER_TESTS,
    ),
    Mutant(
        "numbering: five digits",
        "invoices/issuing.py",
        'f"{series}-{year}-{n:06d}"',
        'f"{series}-{year}-{n:05d}"',
        NUMBER_TESTS,
    ),
    Mutant(
        "numbering: a document totalling zero numbered as a credit note",
        "invoices/issuing.py",
        "return _CREDIT_NOTE if totals.total_cents < 0 else _INVOICE",
        "return _CREDIT_NOTE if totals.total_cents <= 0 else _INVOICE",
        NUMBER_TESTS,
    ),
)


def _copy_tree(source: Path, target: Path) -> None:
    def ignored(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == source
        return {n for n in names if n == "__pycache__" or (top and n in SKIPPED)}

    shutil.copytree(source, target, ignore=ignored, dirs_exist_ok=True)


def _pytest(tree: Path, tests: tuple[str, ...]) -> int:
    environment = {**os.environ, "EMBEDDED_DATA_DIR": str(tree / "var")}
    environment.pop("DATABASE_URL", None)
    environment.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *tests]
    return subprocess.run(command, cwd=tree, env=environment, capture_output=True, check=False).returncode


def main(source: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="mutants-db-") as folder:
        tree = Path(folder)
        _copy_tree(source, tree)
        every_test = tuple(sorted({test for mutant in MUTANTS for test in mutant.tests}))
        if _pytest(tree, every_test) != 0:
            print("The tests fail on the unmutated code: fix them first.")
            return 1
        results = []
        for mutant in MUTANTS:
            path = tree / mutant.path
            code_text = path.read_text()
            if code_text.count(mutant.original) != 1:
                results.append((mutant, "stale: its text is not in the code once"))
                continue
            path.write_text(code_text.replace(mutant.original, mutant.mutated))
            try:
                code = _pytest(tree, mutant.tests)
            finally:
                path.write_text(code_text)
            survived = "equivalent" if mutant.equivalent else "SURVIVED"
            results.append((mutant, {0: survived, 1: "killed"}.get(code, f"error (pytest exit {code})")))
    for mutant, outcome in results:
        reason = f" ({mutant.equivalent})" if outcome == "equivalent" else ""
        print(f"{outcome:<10} {mutant.path}: {mutant.name}{reason}")
    killed = sum(1 for _, outcome in results if outcome == "killed")
    equivalent = sum(1 for _, outcome in results if outcome == "equivalent")
    print(
        f"{len(results)} mutants: {killed} killed, {equivalent} equivalent, {len(results) - killed - equivalent} other"
    )
    return 0 if killed + equivalent == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT))

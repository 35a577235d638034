"""Write a development ``.env`` for this checkout: ``python -m config.dev_env``, run by
``make setup``.

Without it a fresh checkout's ``python manage.py createsuperuser`` (or any other command)
stops on the production rule that ``SECRET_KEY`` must be set when ``DEBUG`` is off. The
file turns ``DEBUG`` on, as ``make run`` does, and holds a random ``SECRET_KEY`` of its own.
An existing file is never touched, whatever it holds. The test suite reads no ``.env``
(``config.test_settings``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_PATH = BASE_DIR / ".env"

#: Bytes of randomness in the key (it is written as about 1.3 characters a byte).
KEY_BYTES = 50

TEMPLATE = """\
# Development settings of this checkout, written by `make setup` (python -m config.dev_env),
# which never overwrites this file. Not for production: see .env.example.
# `make test` reads no .env (config.test_settings).
DEBUG=1
SECRET_KEY={secret_key}
"""


def new_secret_key() -> str:
    """A long random key of letters, digits, ``-`` and ``_``: nothing a ``.env`` line needs
    quoted, and no ``$``, which django-environ would read as a reference to a variable."""
    return secrets.token_urlsafe(KEY_BYTES)


def write_dev_env(path: Path = ENV_PATH) -> bool:
    """Write the development ``.env`` at ``path`` unless a file is there already.

    Returns whether it was written. The file is created exclusively (two setups at once
    write it once) and readable by its owner only.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as env_file:
        env_file.write(TEMPLATE.format(secret_key=new_secret_key()))
    return True


def main() -> int:
    if write_dev_env():
        print(f"wrote {ENV_PATH.name} for development (DEBUG on, a new random SECRET_KEY)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The development ``.env`` that ``make setup`` writes (config.dev_env): DEBUG on and a random
SECRET_KEY, written once and never over an existing file; and the test suite, which reads
no ``.env`` whatever the checkout holds."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config import dev_env

BASE_DIR = Path(__file__).resolve().parents[2]


def _values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_setup_writes_a_development_env_with_debug_on_and_a_secret_key_when_there_is_none(tmp_path):
    path = tmp_path / ".env"

    assert dev_env.write_dev_env(path) is True

    values = _values(path)
    assert values["DEBUG"] == "1"
    assert values["SECRET_KEY"]
    assert path.stat().st_mode & 0o077 == 0  # a secret: readable by its owner only


def test_an_existing_env_is_never_overwritten(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DEBUG=0\nSECRET_KEY=the-operator-s-own-key\n")

    assert dev_env.write_dev_env(path) is False
    assert dev_env.write_dev_env(path) is False

    assert path.read_text() == "DEBUG=0\nSECRET_KEY=the-operator-s-own-key\n"


def test_a_second_setup_keeps_the_first_key(tmp_path):
    path = tmp_path / ".env"
    dev_env.write_dev_env(path)
    first = path.read_text()

    assert dev_env.write_dev_env(path) is False
    assert path.read_text() == first


def test_each_checkout_gets_its_own_long_random_key(tmp_path):
    keys = []
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        dev_env.write_dev_env(tmp_path / name / ".env")
        keys.append(_values(tmp_path / name / ".env")["SECRET_KEY"])

    assert len(set(keys)) == 3
    for key in keys:
        assert len(key) >= 50
        assert len(set(key)) >= 20
        assert not key.startswith("$")  # django-environ would read it as a reference


def _load_settings(env_file: str | None) -> subprocess.CompletedProcess[str]:
    """A ``manage.py`` process of a fresh checkout: nothing in its environment but what it
    needs to reach no server (the database and Redis are addresses it never dials)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STRIPE_") and k not in ("DEBUG", "SECRET_KEY", "DJANGO_TEST_SUITE", "ENV_FILE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        STRIPE_SECRET_KEY="sk_test_never_called",
    )
    if env_file is not None:
        env["ENV_FILE"] = env_file
    script = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=BASE_DIR, timeout=120
    )


def test_manage_py_starts_with_the_written_env_where_it_refused_without_one(tmp_path):
    path = tmp_path / ".env"

    refused = _load_settings(str(path))
    dev_env.write_dev_env(path)
    started = _load_settings(str(path))

    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True"


def test_the_test_suite_and_the_processes_it_starts_read_no_env_file():
    # config.test_settings: DEBUG off whatever a developer's .env says, and ENV_FILE empty
    # for every child process (a settings load of its own included).
    assert settings.DEBUG is False
    assert os.environ["ENV_FILE"] == ""
    assert os.environ["DEBUG"] == "0"

"""The platform pieces the product stands on: real PostgreSQL, Redis, Celery, migrations."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from tests.production_env import SELLER_IDENTITY


def test_database_is_postgresql(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000


def test_cache_is_redis():
    cache.set("platform-check", 42, 10)
    assert cache.get("platform-check") == 42
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_runs_the_healthcheck():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from workspaces.tasks import healthcheck

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            assert healthcheck.delay().get(timeout=20) == "ok"
    finally:
        app.conf.task_always_eager = True


def test_beat_schedule_includes_the_healthcheck():
    assert settings.CELERY_BEAT_SCHEDULE["healthcheck"]["task"] == "workspaces.tasks.healthcheck"


def test_seed_demo_is_idempotent(db, capsys):
    from workspaces.models import Membership, User, Workspace

    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    acme = Workspace.objects.get(name="Acme")
    assert f"/{acme.pk}/workspace/" in out
    roles = dict(Membership.objects.filter(workspace=acme).values_list("user__email", "role"))
    assert roles == {
        "owner@demo.test": "owner",
        "admin@demo.test": "admin",
        "billing@demo.test": "billing_admin",
        "member@demo.test": "member",
        "guest@demo.test": "guest",
    }
    assert User.objects.get(email="member@demo.test").check_password("demo-pass-2026")


def test_production_refuses_to_start_without_a_secret_key():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def _start(**overrides: str) -> subprocess.CompletedProcess[str]:
    """A process loading the settings as a production start would (DEBUG off, outside the
    test suite), with the database and Redis given as addresses it never dials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STRIPE_") and k not in ("DEBUG", "DJANGO_TEST_SUITE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        **SELLER_IDENTITY,
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )


LIVE = {
    "STRIPE_SECRET_KEY": "sk_live_0123456789abcdef",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_0123456789abcdef",
    "STRIPE_WEBHOOK_SECRETS": "whsec_0123456789abcdef",
}


def test_an_unavailable_payment_gateway_stops_the_app_at_start():
    result = _start(**LIVE, PAYMENTS_GATEWAY="local")
    assert result.returncode != 0
    assert "PAYMENTS_GATEWAY='local' is not available" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({}, "STRIPE_SECRET_KEY must be a live Stripe key"),
        (
            {**LIVE, "STRIPE_SECRET_KEY": "sk_test_0123456789abcdef"},
            "STRIPE_SECRET_KEY must be a live Stripe key",
        ),
        (
            {**LIVE, "STRIPE_PUBLISHABLE_KEY": "pk_test_0123"},
            "STRIPE_PUBLISHABLE_KEY must be a live Stripe key",
        ),
        ({**LIVE, "STRIPE_API_BASE": "http://127.0.0.1:8420"}, "STRIPE_API_BASE must be Stripe's own"),
        ({**LIVE, "STRIPE_API_BASE": "https://localhost"}, "STRIPE_API_BASE must be Stripe's own"),
        ({**LIVE, "STRIPE_WEBHOOK_SECRETS": ""}, "STRIPE_WEBHOOK_SECRETS must list"),
    ],
)
def test_a_production_start_refuses_anything_but_live_stripe(overrides, refusal):
    result = _start(**overrides)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_a_production_start_with_live_stripe_keys_loads():
    result = _start(**LIVE)
    assert result.returncode == 0, result.stderr


def test_a_run_stops_its_private_redis_even_with_clients_still_connected(tmp_path):
    """Every test run stops what it started: the private Redis of a run ends with it, though
    the cache and the task queue still hold connections (config.embedded.stop)."""
    script = """
import os, redis
from config import embedded
url = embedded.private_redis_url()
client = redis.Redis(unix_socket_path=url.removeprefix("unix://"))
client.set("k", "v")  # a client still connected, as the cache is
pid = int(embedded._servers["private-redis"].pid)
directory = embedded._servers["private-redis"].redis_dir
embedded.stop()
print(pid, os.path.isdir(directory))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=settings.BASE_DIR,
    )
    pid, directory_left = out.stdout.split()
    assert int(pid) > 0
    assert directory_left == "False"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)

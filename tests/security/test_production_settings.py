"""A production start (DEBUG off) is hardened and refuses a weak SECRET_KEY (docs/security.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.production_checks import secret_key_refusal
from tests.production_env import SELLER_IDENTITY

ROOT = Path(__file__).resolve().parents[2]

STRONG_KEY = "q7Vd2-Lr9xTz0bWk4YpHn8cJm3sGf6uEa1oQiZ5vXy_Rt-KwNb8CjDh2LpMs4QeTg"


def _production_environment(**overrides: str) -> dict[str, str]:
    """What a deployment sets: DEBUG off, its hosts, live Stripe keys, its own servers
    (not contacted by the checks), and no development .env."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DJANGO_", "SECURE_", "DATABASE_", "REDIS_", "SELLER_"))
    }
    environment.update(
        ENV_FILE="",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="billing.example.com",
        DATABASE_URL="postgres://app@127.0.0.1:1/app",
        REDIS_URL="redis://127.0.0.1:1/0",
        STRIPE_SECRET_KEY="sk_live_example",
        STRIPE_PUBLISHABLE_KEY="pk_live_example",
        STRIPE_WEBHOOK_SECRETS="whsec_example",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    environment.update(SELLER_IDENTITY)
    environment.update(overrides)
    return environment


def _manage(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warning_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_send_hsts_redirect_to_https_and_trust_only_the_named_proxy_header():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY)"
    )
    result = _manage("shell", "--no-imports", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True 31536000 True True True True ('HTTP_X_FORWARDED_PROTO', 'https') strict-origin-when-cross-origin"
    )


def test_without_a_proxy_no_forwarded_header_is_trusted():
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)",
        SECURE_PROXY_SSL_HEADER="",
    )

    assert result.stdout.strip() == "None"


@pytest.mark.parametrize(
    "secret_key",
    ["x", "short-but-random-Zq81", "a" * 64, "abcdabcdabcd" * 6, "django-insecure-" + STRONG_KEY],
)
def test_a_weak_secret_key_stops_a_production_start(secret_key):
    result = _manage("check", SECRET_KEY=secret_key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr


def test_a_missing_secret_key_stops_a_production_start():
    result = _manage("check", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value when DEBUG is off." in result.stderr


def test_the_secret_key_bar_is_djangos_own_fifty_characters_and_five_distinct():
    assert secret_key_refusal(STRONG_KEY) == ""
    assert secret_key_refusal("abcde" * 10) == ""  # 50 long, 5 distinct: Django's minimum
    assert secret_key_refusal(STRONG_KEY[:49]).startswith("SECRET_KEY is too weak")
    assert secret_key_refusal("abcd" * 20).startswith("SECRET_KEY is too weak")  # 4 distinct


def test_health_probes_are_answered_over_plain_http_and_pages_redirect_to_https():
    code = (
        "from django.test import Client;"
        "c = Client();"
        "print(c.get('/healthz').status_code, c.get('/accounts/login/').status_code,"
        " c.get('/accounts/login/')['Location'])"
    )
    result = _manage("shell", "--no-imports", "-c", code, ALLOWED_HOSTS="testserver")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200 301 https://testserver/accounts/login/"


def test_the_production_policy_allows_stripe_js_and_stripes_api_and_nothing_inline():
    code = (
        "from django.conf import settings;"
        "d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES'];"
        "print(d['script-src']); print(d['connect-src']); print(d['frame-src'])"
    )
    result = _manage("shell", "--no-imports", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[\"'self'\", 'https://js.stripe.com', 'https://*.js.stripe.com']",
        "[\"'self'\", 'https://api.stripe.com', 'https://js.stripe.com']",
        "['https://js.stripe.com', 'https://*.js.stripe.com', 'https://hooks.stripe.com']",
    ]

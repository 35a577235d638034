"""Settings of the subscription page benchmark's server: the test settings plus a
bench-only URLconf that adds the floor page (see bench/urls.py)."""

from config.test_settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

"""Drivers of the production path on real servers: ``make smoke`` (:mod:`ops.smoke`) and
``make load`` (:mod:`ops.load`). They start Debian's PostgreSQL and Redis, the offline Stripe,
gunicorn, Celery workers and beat (:mod:`ops.stack`), and talk to them over HTTP."""

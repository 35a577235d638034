# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test check bench mutation properties messages smoke load clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

# A fresh checkout also gets a development .env (DEBUG on, a random SECRET_KEY) so that
# `python manage.py …` runs; an existing .env is never touched, and `make test` reads none.
setup: $(STAMP) messages
	$(PY) -m config.dev_env

messages: $(STAMP)
	$(PY) -m config.i18n

run: setup
	$(PY) -m config.launcher

# The suite in a random order, then the stateful property test in a process of its own
# with its examples and data fixed (tests/properties/conftest.py): it replays the same
# billing lives on every run, whatever ran before it.
test: setup
	$(PY) -m pytest --ignore=tests/properties
	$(PY) -m pytest -p no:randomly tests/properties

check: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	# The type checker loads the settings to read the models; it exits without cleaning
	# up, so it is given addresses (and a Stripe key) instead of starting servers it would
	# leave running.
	DATABASE_URL=postgres://typecheck@127.0.0.1:1/typecheck REDIS_URL=redis://127.0.0.1:1/0 STRIPE_SECRET_KEY=sk_test_typecheck $(PY) -m mypy .
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench

# The production path on real servers (docs/scaling.md#the-smoke-run): Debian's PostgreSQL
# and Redis (apt-get install postgresql redis-server), the offline Stripe, gunicorn with
# DEBUG off, two Celery workers and beat; one customer's journey over HTTP, then a worker
# killed mid-sweep and Redis restarted. Run by .ci/run after `make test`.
smoke: setup
	$(PY) -m ops.smoke

# Outside `make test`: 16 clients x 2,000 consumes across 100 workspaces on two gunicorn
# instances and two workers, a worker killed and Redis restarted during the run
# (docs/scaling.md#what-is-tested). CLIENTS, REQUESTS and WORKSPACES change the sizes.
load: setup
	$(PY) -m ops.load

# The stateful property tests of tests/properties with ten times the examples of `make test`
# (the profiles are in tests/properties/conftest.py).
properties: setup
	HYPOTHESIS_PROFILE=long $(PY) -m pytest -p no:randomly tests/properties

# Mutation testing, outside `make test` (docs/mutation-testing.md): mutmut over the pure
# money and date modules, in a copy under mutants/, then the hand-written mutants of the
# database-bound rules. Fails on a surviving mutant the document does not explain.
mutation: setup
	rm -rf mutants
	$(VENV)/bin/mutmut run
	$(VENV)/bin/mutmut export-cicd-stats >/dev/null && cat mutants/mutmut-cicd-stats.json && echo
	$(VENV)/bin/mutmut results
	@unexplained=$$($(VENV)/bin/mutmut results | sed 's/:.*//; s/ //g' | while read -r name; do \
		grep -qF "\`$$name\`" docs/mutation-testing.md || echo "$$name"; done); \
	if [ -n "$$unexplained" ]; then echo "Not explained in docs/mutation-testing.md:"; echo "$$unexplained"; exit 1; fi
	$(PY) -m tests.mutants_db

clean:
	rm -rf $(VENV) var artifacts

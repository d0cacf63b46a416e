# One-word commands (README.md). `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The quick start runs on embedded SQLite with eager Celery, whatever the shell has set.
QUICKSTART_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=config.settings.base

.PHONY: run test lint format messages bench check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.deps-run: pyproject.toml | $(PY)
	$(PIP) install --quiet .
	touch $@

$(VENV)/.deps-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet ".[dev]"
	touch $@ $(VENV)/.deps-run

run: $(VENV)/.deps-run
	$(QUICKSTART_ENV) $(PY) manage.py migrate --noinput
	$(QUICKSTART_ENV) $(PY) manage.py seed_demo
	$(QUICKSTART_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# Two test processes (pytest-xdist), each with its own test database and Redis database:
# the suite takes about half as long on two cores. `make test PYTEST_ARGS=` runs one.
PYTEST_ARGS ?= -n 2
test: $(VENV)/.deps-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.deps-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Refresh the translation catalogues after changing user-visible text, then translate.
messages: $(VENV)/.deps-dev
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore ".venv/*" --ignore "static/*"
	$(PY) manage.py compilemessages --ignore ".venv/*"

# Province-scale benchmarks on PostgreSQL (README, "Scale and benchmarks"): builds or reuses
# the data set, times each job next to its floor, writes bench/results.json and BENCHMARKS.md.
# BENCH_SCALE=small is CI's quick run: it checks the jobs' results, never their speed.
BENCH_SCALE ?= full
bench: $(VENV)/.deps-dev
	BENCH_SCALE=$(BENCH_SCALE) $(PY) -m bench.run

check: lint test

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

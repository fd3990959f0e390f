# The commands of the README: `make run` (the demo), `make test` (lint + the test suite) and
# `make bench` (benchmarks; `make bench BASELINE=var/bench/base.json` compares against a saved run).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The demo and the tests run with DEBUG on; without it the settings are production settings.
export DJANGO_DEBUG ?= 1

.PHONY: run test bench lint format setup migrate seed clean

run: setup migrate seed
	$(PY) manage.py rundemo $(if $(PORT),--port $(PORT))

# Two pytest workers (each with its own database, simulators, Celery worker and cache namespace);
# worksteal keeps them both busy to the end. PYTEST_ARGS="-n 0" runs the suite in one process.
TEST_WORKERS ?= 2

test: setup lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: setup
	$(PY) -m tests.bench $(if $(BASELINE),--baseline $(BASELINE)) $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: setup
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

clean:
	rm -rf $(VENV) $${PORTAL_VAR_DIR:-var} .pytest_cache .ruff_cache

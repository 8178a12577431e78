# Quick start: `make demo`, then `make test`. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# dagster-dbt's `prepare_if_dev` (under `dagster dev`) runs `dbt` from PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo ui docs run test test-fast lint warehouse-start warehouse-stop psql clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)
	@rm -f dbt_project/target/manifest.json
	@cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: install
	$(BIN)/atw demo

ui: install
	$(BIN)/atw ui

docs: install
	$(BIN)/atw docs

run: install
	$(BIN)/atw run

# Two workers (xdist); the tests of a file stay on one worker, so that its module fixtures run
# once. The ten slowest tests are printed at the end.
PYTEST_PARALLEL := -n 2 --dist loadfile --durations=10

test: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

# Everything but the whole-pipeline (e2e) tests.
test-fast: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

warehouse-start: install
	$(BIN)/atw warehouse start

warehouse-stop: install
	$(BIN)/atw warehouse stop

psql: install
	$(BIN)/atw psql

clean:
	-$(BIN)/atw warehouse stop
	rm -rf $(VENV) .warehouse .dagster_home reports dbt_project/target dbt_project/logs

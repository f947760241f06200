# The two commands of the README, and a few helpers. Each target sets up what it needs by itself.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-distributed lint bench emulator clean

$(BIN)/.installed: pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test]'
	touch $@

## make demo: start the emulator and a real Airflow (api-server, scheduler, dag-processor, triggerer) and run every
## example DAG end to end; KEEP=1 leaves the UI running afterwards
## (DEMO_ARGS="--auth oauth --net-core" for OAuth client credentials and the .NET Core layout)
demo: $(BIN)/.installed
	$(BIN)/python scripts/demo.py $(if $(KEEP),--keep) $(DEMO_ARGS)

## make test: lint, type-check and run the whole test suite
test: $(BIN)/.installed lint
	$(BIN)/pytest -q -p no:cacheprovider --ignore=tests/distributed

## make test-distributed: Airflow scaled out (CeleryExecutor, PostgreSQL, Redis, two workers, two triggerers);
## needs Debian's postgresql and redis-server packages (.ci/run installs them)
test-distributed: $(BIN)/.installed
	$(BIN)/pytest -q -p no:cacheprovider tests/distributed

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make bench: run the benchmarks and rewrite benchmarks/RESULTS.md
bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

## make emulator: serve the Creatio emulator on port 8765 until Ctrl-C
emulator: $(BIN)/.installed
	$(BIN)/python -m airflow_provider_creatio.testing.emulator --port 8765

clean:
	rm -rf $(VENV) .airflow-demo .pytest_cache .mypy_cache .ruff_cache

# The two commands of the README (make demo, make test), and helpers: lint, bench, emulator, the release checks
# (dist, smoke-wheel) and the documentation (docs). Each target sets up what it needs by itself.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-quick test-distributed test-compat system-packages lint bench emulator dist smoke-wheel docs \
	docs-serve clean

# Every pytest run: no cache folder, and the skipped tests named with their reasons at the end (-rs). The tests run
# in parallel (pytest-xdist, one worker per core) and in a random order (pytest-randomly: the run's last line tells
# the seed; PYTEST_ARGS=--randomly-seed=N runs that order again, PYTEST_ARGS="-p no:randomly" the files' order). The deployment tier runs in one worker, as one unit of work (the scheduler in
# tests/conftest.py), so two Airflow deployments never start at once.
PYTEST   := $(BIN)/pytest -q -p no:cacheprovider -rs
PARALLEL := -n auto

$(BIN)/.installed: pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[test]'
	touch $@

# The release and documentation tools, pinned in the same constraints file, in the same environment.
$(BIN)/.tools-installed: $(BIN)/.installed requirements/release.txt requirements/docs.txt requirements/constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt \
		-r requirements/release.txt -r requirements/docs.txt
	touch $@

## make demo: start the emulator and a real Airflow (api-server, scheduler, dag-processor, triggerer) and run every
## example DAG end to end; KEEP=1 leaves the UI running afterwards
## (DEMO_ARGS="--auth oauth --net-core" for OAuth client credentials and the .NET Core layout)
demo: $(BIN)/.installed
	$(BIN)/python scripts/demo.py $(if $(KEEP),--keep) $(DEMO_ARGS)

## make test: lint, type-check and run the whole test suite (in parallel, in a random order)
test: $(BIN)/.installed lint system-packages
	$(PYTEST) $(PARALLEL) --ignore=tests/distributed $(PYTEST_ARGS)

## make test-quick: the inner loop while working (under a minute): ruff on the package, then the unit and emulator
## tests in parallel
test-quick: $(BIN)/.installed
	$(BIN)/ruff check airflow_provider_creatio
	$(PYTEST) $(PARALLEL) tests/unit tests/emulator $(PYTEST_ARGS)

## make system-packages: the Debian packages the tiers need (scripts/system-packages.sh; as root it installs them)
system-packages:
	bash scripts/system-packages.sh test

## make test-distributed: Airflow scaled out (CeleryExecutor, PostgreSQL, Redis, two workers, two triggerers);
## needs Debian's postgresql and redis-server packages (.ci/run installs them)
test-distributed: $(BIN)/.installed
	bash scripts/system-packages.sh distributed
	$(PYTEST) tests/distributed $(PYTEST_ARGS)

## make test-compat: the unit and dag.test DAG tests on the newest patch of each older Airflow minor that
## pyproject.toml claims (3.3 is make test's), one after another (each in parallel, in a random order), each in a
## venv built from nothing with that version's pins (requirements/compat/constraints-<minor>.txt); a second run in
## the same clone reuses the venv until that file or pyproject.toml changes
COMPAT_AIRFLOW := 3.0 3.1 3.2
# Every dag.test test but the four-deployment matrix (auth type x .NET layout, which the client handles alike on
# every Airflow): with it a minor takes about twice as long (COMPAT_TESTS="tests/unit tests/dags" runs it too).
COMPAT_TESTS   := tests/unit tests/dags/test_entity_dags.py tests/dags/test_process_dags.py \
	tests/dags/test_schedule_dagbag.py tests/dags/test_lineage_dags.py

test-compat: $(addprefix test-compat-,$(COMPAT_AIRFLOW))

.PRECIOUS: .venv-compat/%/.installed
.venv-compat/%/.installed: requirements/compat/constraints-%.txt pyproject.toml
	rm -rf .venv-compat/$*
	$(PYTHON) -m venv .venv-compat/$*
	.venv-compat/$*/bin/pip install --quiet --disable-pip-version-check -c requirements/compat/constraints-$*.txt \
		-e '.[parquet]' pytest pytest-asyncio pytest-timeout pytest-xdist pytest-randomly
	touch $@

test-compat-%: .venv-compat/%/.installed
	.venv-compat/$*/bin/python -c "import airflow; print('Airflow', airflow.__version__)"
	.venv-compat/$*/bin/pytest -q -p no:cacheprovider -rs $(PARALLEL) $(COMPAT_TESTS) $(PYTEST_ARGS)

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

## make dist: build the sdist and wheel into dist/ and check them (no deprecation warning from the build,
## twine check, every file of the package and every entry point in the wheel)
dist: $(BIN)/.tools-installed
	$(BIN)/python scripts/dist.py

## make smoke-wheel: make dist, then the install path of docs/getting-started.md exactly as written (its code blocks
## marked <!-- smoke: ... -->) with a fresh HOME: a venv, the wheel built and installed with the tested constraints,
## airflow db migrate, the emulator, the page's DAG through airflow dags test; then the installed package is checked
SMOKE := build/smoke-home
smoke-wheel: dist
	$(BIN)/python scripts/smoke_wheel.py $(SMOKE)

## make docs: build the documentation site into site/ in strict mode (a broken link or reference fails), after
## checking that the pages generated from the code are up to date (scripts/generate_docs.py rewrites them)
docs: $(BIN)/.tools-installed
	$(BIN)/python scripts/generate_docs.py --check
	$(BIN)/mkdocs build --strict

## make docs-serve: serve the documentation on http://127.0.0.1:8000, rebuilt on every change
docs-serve: $(BIN)/.tools-installed
	$(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) .venv-compat .airflow-demo .pytest_cache .mypy_cache .ruff_cache build dist site

# inflow: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser bi-env demo test test-fast lint format lock bench bench-quick mutation clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/inflow demo

# Debian's chromium for the report's browser test, when missing.
browser:
	bash tests/setup/install-chromium.sh

# A separate BI environment as the README's recipe installs it (DuckDB 1.5, duckdb-engine,
# SQLAlchemy 2.0, pytz, ibis 12): the test that a BI user's own client reads the published file.
BI_STAMP := .venv-bi/.installed

bi-env: $(BI_STAMP)

$(BI_STAMP): bi/requirements.lock
	$(PYTHON) -m venv .venv-bi
	.venv-bi/bin/pip install --quiet -r bi/requirements.lock
	touch $(BI_STAMP)

test: install browser bi-env
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/pytest -n 2 -m "not slow"

# Style and types: ruff, then mypy (strict on schemas/ and transforms/; pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve the pinned set from pyproject.toml (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev,bench]'
	(echo "# Pinned full dependency set: every install uses it as constraints (make install)."; \
	 echo "# Regenerate with: make lock"; \
	 .lock-venv/bin/pip freeze --exclude-editable) > requirements.lock
	rm -rf .lock-venv

# The benchmarks recorded in docs/benchmarks.md, at the recorded sizes (about an hour);
# `make bench-quick` runs every suite small (a few minutes; CI runs it) into data/bench/.
# The benchmarks' peers (dlt) are a bench-only extra, pinned in requirements.lock like the rest.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: install browser $(BENCH_STAMP)
	$(BIN)/python -m bench.harness

bench-quick: install browser $(BENCH_STAMP)
	$(BIN)/python -m bench.harness --quick

# Mutation testing of transforms/ and the contract parsing (docs/mutation.md; about an hour,
# not in CI): every mutant the unit tests let live is listed with `mutmut results`.
mutation: install
	$(BIN)/pip install --quiet -c requirements.lock -e '.[mutation]'
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python -m tests.mutation_score

clean:
	rm -rf $(VENV) .venv-bi data mutants .pytest_cache .ruff_cache .mypy_cache .hypothesis

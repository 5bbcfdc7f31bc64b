# The two commands of the quick start: `make demo` and `make test`.
# Both create the environment in .venv/ at the repo root on first use, after the Debian
# packages it needs (fonts and libraries for printed documents: tools/system-packages).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What the tests need besides: Debian's chromium (tools/system-packages --test) and the
# npm packages of package-lock.json (axe-core), installed by npm ci into .venv/node.
NODE := $(VENV)/node
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck unit venv test-env clean

$(STAMP): pyproject.toml tools/system-packages
	tools/system-packages install
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) package.json package-lock.json tools/system-packages
	tools/system-packages install --test
	mkdir -p $(NODE)
	cp package.json package-lock.json $(NODE)/
	npm ci --prefix $(NODE) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(TEST_STAMP)

venv: $(STAMP)

test-env: $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/jiuzhu demo

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(TEST_STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

# CivicLoop — `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CIVICLOOP := $(BIN)/civicloop
export VENV

BIND ?= 127.0.0.1:8000
PEOPLE ?= 5000
SEED ?= 42
PYTEST_ARGS ?=
# Two processes, one per core; `make test XDIST=0` runs in one process.
XDIST ?= 2
LINT_PATHS := $(wildcard src tests bench typings)

.PHONY: help install install-test run serve migrate demo test lint format bench lock licences clean distclean

help: ## List every target with what it does
	@echo "CivicLoop — make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-13s %s\n", $$1, $$2}'

install: ## Create .venv if missing and install the runtime lock (quick when nothing changed)
	@scripts/ensure_venv.sh runtime

install-test: ## Install the runtime and test locks, and Debian's Chromium if missing
	@scripts/ensure_venv.sh test

migrate: install ## Apply database migrations (SQLite at var/civicloop.sqlite3 unless DATABASE_URL)
	@mkdir -p var
	$(CIVICLOOP) migrate --noinput

demo: migrate ## Load the demo city into an empty database (PEOPLE=5000 SEED=42)
	@if $(CIVICLOOP) help --commands | grep -qx demo; then \
		echo "$(CIVICLOOP) demo --if-empty --people $(PEOPLE) --seed $(SEED)"; \
		$(CIVICLOOP) demo --if-empty --people $(PEOPLE) --seed $(SEED); \
	else echo "warning: no \`civicloop demo\` command in this build; serving without demo data"; fi

run: demo ## Set everything up and serve with demo data at http://127.0.0.1:8000
	@$(CIVICLOOP) collectstatic --noinput -v0
	@echo
	@$(PY) scripts/demo_logins.py
	@echo
	$(CIVICLOOP) serve --bind $(BIND)

serve: install ## Serve without migrating or loading demo data (web, task worker, audit sealer)
	@mkdir -p var
	$(CIVICLOOP) serve --bind $(BIND)

test: install-test ## Set everything up and run the whole test suite (pytest, browser tests included)
	@status=0; (set -x; $(BIN)/pytest -p no:playwright $(if $(filter-out 0,$(XDIST)),-n $(XDIST)) $(PYTEST_ARGS)) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no test: that is a failure" >&2; fi; \
	exit $$status

lint: install-test ## ruff check and ruff format --check on src, tests and bench; mypy on src
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

format: install-test ## Fix what ruff can fix and format src, tests and bench
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

bench: install-test ## Run every bench/*.py script (results go in docs/benchmarks.md)
	@set -e; scripts=$$(ls bench/*.py 2>/dev/null | grep -v '/_' || true); \
	if [ -z "$$scripts" ]; then echo "no bench/*.py scripts yet"; exit 0; fi; \
	for script in $$scripts; do echo "==> $$script"; $(PY) $$script; done

lock: ## After changing pyproject.toml's dependencies: install them and re-pin requirements/*.txt
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	$(PY) scripts/lock.py

licences: install-test ## Fail if a runtime dependency is GPL- or AGPL-licensed
	$(PY) scripts/check_licences.py requirements/lock.txt

clean: ## Remove caches, build output and collected static files (keeps .venv and the database)
	rm -rf .pytest_cache .ruff_cache .mypy_cache build dist src/*.egg-info var/static test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv and var/ (the database and media): a fresh machine
	rm -rf $(VENV) var

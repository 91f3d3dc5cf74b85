# Planner's everyday commands are `make run`, `make test-fast` while you work and `make test`
# before you push (CI runs it); `make help` lists the rest.
# Everything a fresh Debian/Ubuntu machine lacks is installed by `make install`, which each of
# them calls first and which does nothing when everything is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
# The Python packages come from the lock files, requirements.txt and requirements-dev.txt, which
# `make lock` makes from requirements*.in: every package, transitive ones included, pinned with
# the hash of each of its files. They are reinstalled only when a lock file changes: the stamp's
# name carries a hash of their content.
REQUIREMENTS := requirements.txt requirements-dev.txt
REQ_HASH := $(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)
PYTEST_ARGS ?=
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release the .in files allow
# (`--upgrade-package NAME` for one); without it, pins the .in files still allow are kept.
LOCK_ARGS ?=
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

.PHONY: help install system-packages lock run test test-fast lint format clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: system-packages $(STAMP) ## Install system packages (if missing) and the virtualenv

system-packages:
	@bash scripts/install-system-packages.sh

$(STAMP): | system-packages
	@py=; for candidate in python3.11 python3; do \
	  if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then py=$$candidate; break; fi; \
	done; \
	if [[ -z "$$py" ]]; then echo "Planner needs Python 3.11 or newer (as python3.11 or python3)" >&2; exit 1; fi; \
	if [[ -e $(VENV) ]] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	  echo "$(VENV) has no working Python 3.11+; rebuilding it"; rm -rf $(VENV); \
	fi; \
	if [[ ! -x $(BIN)/python ]]; then echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
	  --only-binary :all: -r requirements-dev.txt
	@unlocked=$$($(BIN)/python scripts/audit.py --unlocked); \
	if [[ -n "$$unlocked" ]]; then \
	  echo "removing what the lock does not name: $$unlocked"; \
	  $(BIN)/python -m pip uninstall --quiet --disable-pip-version-check --yes $$unlocked; \
	fi
	$(BIN)/python -m pip check --disable-pip-version-check
	@rm -f $(VENV)/.installed-*
	@touch $@

lock: install ## Re-make the lock files from requirements*.in, then install them
	$(UV_COMPILE) --output-file requirements.txt requirements.in
	$(UV_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	@$(MAKE) --no-print-directory install

run: install ## Migrate, load the example plan, and serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) plan load-example
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install ## Lint, mypy, audit, then every test on SQLite and on a throwaway PostgreSQL (what CI runs)
	@bash scripts/test.sh $(PYTEST_ARGS)

test-fast: install ## Lint, mypy, and the tests without browsers, PDFs, servers or PostgreSQL (under 2 min)
	@bash scripts/test.sh --fast $(PYTEST_ARGS)

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Let ruff fix what it can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the virtualenv, caches and any leftover test cluster (keeps instance/)
	@bash scripts/pg-test-cluster.sh stop
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

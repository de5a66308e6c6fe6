# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
export LMS_ENV ?= development
export LMS_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test bench install lint format vendor translations clean help constraints

help:
	@echo "make run    install, migrate, load the register, sync content/, create demo users, serve on http://$(HOST):$(PORT)"
	@echo "make test   install with test dependencies and run the whole suite (SQLite, and PostgreSQL beside it if LMS_TEST_DATABASE_URL is set)"
	@echo "make bench  programme-scale benchmarks (issue #7): one table, written to bench/results.md (BENCH_QUICK=1: smaller; LMS_BENCH_DATABASE_URL: PostgreSQL)"
	@echo "make lint   ruff check, format check and mypy"
	@echo "make constraints  refresh the pinned versions in constraints.txt"
	@echo "make vendor refresh Bootstrap Italia, Chart.js and axe-core from npm (needs Node; not needed to run)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies change, so a second `make run` starts quickly.
# Every install is pinned by constraints.txt, so two installs a month apart are the same.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

# Refresh the pins: the newest versions pyproject.toml allows, in a clean venv, frozen.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e '.[test,prod]'
	{ sed -n '1,2p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints
	@echo "constraints.txt refreshed: review the diff, then make test"

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel compile -d lms/translations 2>&1 | grep -v "^compiling catalog" || true
	@test -f lms/translations/en/LC_MESSAGES/messages.mo

run: install
	$(BIN)/lms db upgrade
	$(BIN)/lms register load
	$(BIN)/lms content sync
	$(BIN)/lms demo
	$(BIN)/lms run --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install lint
	@chromium="$${LMS_CHROMIUM:-/usr/bin/chromium}"; if [ ! -x "$$chromium" ]; then \
		echo "== $$chromium not found: the browser tests (tests/e2e) will be SKIPPED; install it with scripts/install-chromium.sh =="; \
	fi
	@command -v soffice >/dev/null 2>&1 || \
		echo "== soffice not found: the spreadsheet tests (tests/test_spreadsheet_program.py) will be SKIPPED; install it with scripts/install-libreoffice.sh =="
	PYTEST_ARGS="$(PYTEST_ARGS)" bash scripts/run-tests.sh

vendor:
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage

# Benchmarks (bench/run_all.py): gunicorn from the prod extra, wrk from Debian when
# it can be installed, the generated programme database made when missing.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[prod,test]'
	@touch $@

bench: install $(BENCH_STAMP)
	@bash scripts/install-bench-tools.sh
	$(BIN)/python bench/run_all.py

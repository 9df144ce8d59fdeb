# ParkPay: `make demo` serves a seeded demo park; `make test` runs lint and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock lint format serve install bench clean labelstudio

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# axe-core, for the accessibility checks of the browser tests (package-lock.json
# pins it); nothing from node_modules/ is served to users.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	command -v npm >/dev/null && npm ci --no-audit --no-fund --silent || echo "npm missing: the accessibility checks will be skipped"

install: $(STAMP) node_modules/axe-core/axe.min.js

demo: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py demo_payroll
	@echo "ParkPay is serving on http://$(HOST)/"
	$(BIN)/python manage.py runserver $(HOST)

serve: $(STAMP)
	$(BIN)/python manage.py runserver $(HOST)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The suite runs on up to four processes (pytest-xdist; JOBS=1 for one), each
# with a test database and a Redis database of its own (config/settings/test.py).
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
XDIST := $(if $(filter-out 1,$(JOBS)),-n $(JOBS))

test: lint node_modules/axe-core/axe.min.js
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The suite again with the clock set to each instant of tests/clock.py where
# date code usually breaks (month ends, New Year, a leap day, local midnight).
# The two slowest checks that do not depend on the date run in `make test`
# only: the English half of the every-page phone check (the Chinese half runs
# at every instant) and the disclosure audit of generated parks.
CLOCK_DESELECT := \
  --deselect "tests/e2e/test_pages.py::test_every_page_of_every_role_fits_a_phone[en]" \
  --deselect tests/reports/test_county_disclosure.py::test_adversarial_small_parks

test-clock: $(STAMP) node_modules/axe-core/axe.min.js
	@failed=""; \
	for at in $$($(BIN)/python -c "from tests.clock import RISKY_INSTANTS as r; print(*r)"); do \
	  echo "== the suite with the clock at $$at"; \
	  $(BIN)/python -m pytest -q $(XDIST) --fake-now=$$at $(CLOCK_DESELECT) $(PYTEST_ARGS) || failed="$$failed $$at"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed with the clock at:$$failed"; exit 1; fi

# Label Studio for the connector's end-to-end test, in a virtual environment
# of its own (it pins its own Django): tests/payroll/test_labelstudio_live.py
# runs when PARKPAY_LABEL_STUDIO=$(LS_VENV)/bin/label-studio (CI sets it).
LS_VENV := .venv-labelstudio
LS_VERSION := 1.23.2

labelstudio: $(LS_VENV)/.installed-$(LS_VERSION)

$(LS_VENV)/.installed-$(LS_VERSION):
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check label-studio==$(LS_VERSION)
	touch $@

bench: $(STAMP)
	$(BIN)/python bench/payroll.py

clean:
	rm -rf $(VENV) $(LS_VENV) db.sqlite3 media staticfiles

# Everything from a fresh clone: `make demo` to try it, `make test` for what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := assets/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo serve test lint format assets install chromium pango geography clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

# NHS.UK frontend, htmx, Swagger UI and axe-core from the npm registry (never committed).
$(ASSETS): assets/package.json assets/package-lock.json
	cd assets && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

assets: $(ASSETS)

# Debian's Chromium for the browser tests; Playwright drives it, downloading no browser.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; }

# Pango and fonts from Debian, which WeasyPrint needs to draw letters as PDF.
pango:
	@ldconfig -p | grep -q 'libpango-1.0.so' && ldconfig -p | grep -q 'libpangoft2-1.0.so' || { \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation >/dev/null; }

demo: install assets pango
	$(BIN)/healthequity demo --host $(HOST) --port $(PORT)

serve: install assets pango
	$(BIN)/healthequity serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# PostgreSQL runs too when a server answers on 127.0.0.1:5432 (or the variable is set).
test: install assets chromium pango lint
	HEALTHEQUITY_TEST_POSTGRES_URL="$${HEALTHEQUITY_TEST_POSTGRES_URL:-$$($(BIN)/python scripts/find_test_postgres.py)}" \
		$(BIN)/python -m pytest -n 2 --dist loadfile

# Rebuild the shipped reference geography from ../shared/data/geography.
geography: install
	$(BIN)/python scripts/build_geography.py

clean:
	rm -rf $(VENV) assets/node_modules test-artifacts .pytest_cache .mypy_cache .ruff_cache

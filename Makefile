# GridCare: `make run` serves the demo, `make test` runs every check. See README.md.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_CUSTOMERS ?= 20000
DEMO_SEED ?= 95598
# Tests on PostgreSQL create (and drop) a fresh database through this server.
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

# Browser tests drive Debian's Chromium; a CJK font makes their screenshots readable.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BIN := $(VENV)/bin
UV := $(BIN)/uv pip install -q --python $(BIN)/python

.PHONY: run test test-sqlite test-postgres lint install install-dev browser clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv

$(VENV)/.run-installed: $(BIN)/uv requirements.lock pyproject.toml
	$(UV) -r requirements.lock
	$(UV) --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/uv requirements-dev.lock pyproject.toml
	$(UV) -r requirements-dev.lock
	$(UV) --no-deps -e .
	@touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/gridcare db upgrade
	$(BIN)/gridcare demo --if-empty --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/gridcare serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

browser:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  echo "installing Debian's chromium and a Chinese font for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

test-sqlite: install-dev browser
	$(BIN)/pytest --db sqlite

test-postgres: install-dev browser
	$(BIN)/pytest --db postgresql --pg-url $(TEST_PG_URL)

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

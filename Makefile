# yipanqi — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/yipanqi/static/vendor/.built
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run worker test bench lint install assets messages system-deps clean

# Serves with a task worker in the background (scripts/run.sh); Pango and CJK fonts render the bulletins as PDF.
run: install assets messages
	scripts/system_deps.sh fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# The task worker alone (notification mails, daily jobs), for a server started otherwise (docs/worker.md).
worker: install
	$(BIN)/yipanqi db_worker

test: install assets messages system-deps lint
	scripts/test.sh

bench: install assets messages
	scripts/system_deps.sh postgresql wrk
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

assets: $(ASSETS)

$(ASSETS): package.json package-lock.json scripts/build_assets.mjs
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	node scripts/build_assets.mjs
	touch $@

messages: install
	scripts/system_deps.sh gettext
	cd src/yipanqi && ../../$(BIN)/yipanqi compilemessages -v 0

system-deps:
	scripts/system_deps.sh postgresql gettext chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0

clean:
	rm -rf $(VENV) node_modules src/yipanqi/static/vendor var test-artifacts

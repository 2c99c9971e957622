# Two commands for a newcomer: `make run` serves the demo conference, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kumpul-installed
HOST ?= 127.0.0.1
PORT ?= 8000

PWA_DEPS := pwa/node_modules/.package-lock.json
PWA_BUILD := pwa/dist/index.html
PWA_SOURCES := $(shell find pwa/src pwa/public pwa/index.html pwa/vite.config.ts pwa/tsconfig.json \
	pwa/package.json -type f 2>/dev/null)

.PHONY: run test check lint types pytest pwa pwa-test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

$(PWA_DEPS): pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

$(PWA_BUILD): $(PWA_DEPS) $(PWA_SOURCES)
	cd pwa && npm run build

# The PWA, built once its sources exist.
pwa: $(if $(wildcard pwa/package.json),$(PWA_BUILD))

run: $(STAMP) pwa
	$(BIN)/kumpul serve --demo --host $(HOST) --port $(PORT)

test: check pwa-test pytest

check: lint types

lint: $(STAMP)
	$(BIN)/ruff check server sync tests bench
	$(BIN)/ruff format --check server sync tests bench

types: $(STAMP)
	$(BIN)/mypy

pwa-test: pwa
ifneq ($(wildcard pwa/package.json),)
	cd pwa && npm run typecheck && npm test
endif

pytest: $(STAMP) pwa
	$(BIN)/pytest

bench: $(STAMP) pwa
	mkdir -p bench/out
	$(BIN)/python bench/programme.py --json bench/out/programme.json
	$(BIN)/python bench/push.py --json bench/out/push.json
	$(BIN)/python bench/pwa.py --json bench/out/pwa.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis pwa/node_modules pwa/dist

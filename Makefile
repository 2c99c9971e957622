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

# Every benchmark writes bench/out/NAME.json; one that fails is reported as n/a and makes `make bench` fail
# at the end. BENCH_QUICK=1 is a short smoke run of the harness: its table goes to
# bench/out/results-quick.md, never to bench/results.md.
BENCH_OUT := bench/out
BENCH_NAMES := programme storm live push wire pwa sync abuse
BENCH_QUICK_ON := $(filter-out 0,$(BENCH_QUICK))
BENCH_FLAGS := $(if $(BENCH_QUICK_ON),--quick)
BENCH_RESULTS := $(if $(BENCH_QUICK_ON),$(BENCH_OUT)/results-quick.md,bench/results.md --markdown README.md)

bench: $(STAMP) pwa
	mkdir -p $(BENCH_OUT)
	rm -f $(BENCH_NAMES:%=$(BENCH_OUT)/%.json)
	-$(BIN)/python bench/programme.py $(BENCH_FLAGS) --json $(BENCH_OUT)/programme.json
	-$(BIN)/python bench/storm.py $(BENCH_FLAGS) --json $(BENCH_OUT)/storm.json
	-$(BIN)/python bench/live.py $(BENCH_FLAGS) --json $(BENCH_OUT)/live.json
	-$(BIN)/python bench/push.py $(if $(BENCH_QUICK_ON),--subscriptions 300 --runs 1) --json $(BENCH_OUT)/push.json
	-$(BIN)/python bench/wire.py $(BENCH_FLAGS) --json $(BENCH_OUT)/wire.json
	-$(BIN)/python bench/pwa.py $(if $(BENCH_QUICK_ON),--runs 1) --json $(BENCH_OUT)/pwa.json
	-$(BIN)/python bench/sync.py $(BENCH_FLAGS) --json $(BENCH_OUT)/sync.json
	-$(BIN)/python bench/abuse.py $(BENCH_FLAGS) --json $(BENCH_OUT)/abuse.json
	$(BIN)/python bench/report.py --out $(BENCH_OUT) --markdown $(BENCH_RESULTS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis pwa/node_modules pwa/dist

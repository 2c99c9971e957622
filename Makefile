# Two commands for a newcomer: `make run` serves the demo conference, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Python dependency tree is locked with hashes (requirements/*.txt, made by `make lock`): `make run`
# installs what serving needs, `make test` and `make bench` also the test and benchmark tools, each exactly.
SERVE_LOCK := requirements/serve.txt
DEV_LOCK := requirements/dev.txt
SERVE_STAMP := $(VENV)/.kumpul-serve
STAMP := $(VENV)/.kumpul-dev
HOST ?= 127.0.0.1
PORT ?= 8000

PWA_DEPS := pwa/node_modules/.package-lock.json
PWA_BUILD := pwa/dist/index.html
PWA_SOURCES := $(shell find pwa/src pwa/public pwa/index.html pwa/vite.config.ts pwa/tsconfig.json \
	pwa/package.json -type f 2>/dev/null)

.PHONY: run test check lint types pytest pwa pwa-test bench clean lock

# Install exactly the locked set (every file checked against its hash), then Kumpul itself from the
# locked setuptools, without reaching for anything unlocked.
define install_locked
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(1)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@
endef

$(SERVE_STAMP): pyproject.toml $(SERVE_LOCK)
	$(call install_locked,$(SERVE_LOCK))

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(call install_locked,$(DEV_LOCK))

# Re-resolve the lock for every Python Kumpul supports after pyproject.toml or requirements/*.in changed,
# keeping every pin that still fits; `make lock UPGRADE=1` moves everything to the newest releases within
# the ranges. The serving set is held to the same versions as the full one. Then run `make test` and
# record what changed in CHANGELOG.md.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	$(if $(filter-out 0,$(UPGRADE)),--upgrade)
lock: $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/build.in requirements/tools.in --extra test --extra bench \
		-o $(DEV_LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(DEV_LOCK) -o $(SERVE_LOCK)

$(PWA_DEPS): pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

$(PWA_BUILD): $(PWA_DEPS) $(PWA_SOURCES)
	cd pwa && npm run build

# The PWA, built once its sources exist.
pwa: $(if $(wildcard pwa/package.json),$(PWA_BUILD))

run: $(SERVE_STAMP) pwa
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

# The whole suite runs on both storage engines, in four streams three at a time so that two cores stay busy
# (tests/streams.py): the browser tests; every other test on PostgreSQL, in a private cluster the tests start
# (tests/postgres.py); the same tests on SQLite; then the end-to-end tests of servers without a browser.
# `KUMPUL_TEST_DATABASE=postgresql` runs any test on PostgreSQL. `make pytest PYTEST_ARGS="tests/server -x"` runs one
# pytest with those arguments.
pytest: $(STAMP) pwa
ifdef PYTEST_ARGS
	$(BIN)/pytest $(PYTEST_ARGS)
else
	$(BIN)/python -m tests.streams
endif

# Every benchmark writes bench/out/NAME.json; one that fails is reported as n/a and makes `make bench` fail
# at the end. BENCH_QUICK=1 is a short smoke run of the harness: its table goes to
# bench/out/results-quick.md, never to bench/results.md. The storm, live, push and sync benchmarks run on each
# engine of BENCH_ENGINES in turn (bench/engines.py: SQLite, PostgreSQL with one node, with two), side by side
# in the table; `make bench BENCH_ENGINES=sqlite` measures SQLite alone.
BENCH_OUT := bench/out
BENCH_NAMES := programme storm live push wire pwa sync abuse scale
BENCH_QUICK_ON := $(filter-out 0,$(BENCH_QUICK))
BENCH_FLAGS := $(if $(BENCH_QUICK_ON),--quick)
BENCH_ENGINES ?= sqlite,pg1,pg2
BENCH_RESULTS := $(if $(BENCH_QUICK_ON),$(BENCH_OUT)/results-quick.md,bench/results.md --markdown README.md)

bench: $(STAMP) pwa
	mkdir -p $(BENCH_OUT)
	rm -f $(BENCH_NAMES:%=$(BENCH_OUT)/%.json)
	-$(BIN)/python bench/programme.py $(BENCH_FLAGS) --json $(BENCH_OUT)/programme.json
	-$(BIN)/python bench/storm.py $(BENCH_FLAGS) --engines $(BENCH_ENGINES) --json $(BENCH_OUT)/storm.json
	-$(BIN)/python bench/live.py $(BENCH_FLAGS) --engines $(BENCH_ENGINES) --json $(BENCH_OUT)/live.json
	-$(BIN)/python bench/push.py $(if $(BENCH_QUICK_ON),--subscriptions 300 --runs 1) --engines $(BENCH_ENGINES) \
		--json $(BENCH_OUT)/push.json
	-$(BIN)/python bench/wire.py $(BENCH_FLAGS) --json $(BENCH_OUT)/wire.json
	-$(BIN)/python bench/pwa.py $(if $(BENCH_QUICK_ON),--runs 1) --json $(BENCH_OUT)/pwa.json
	-$(BIN)/python bench/sync.py $(BENCH_FLAGS) --engines $(BENCH_ENGINES) --json $(BENCH_OUT)/sync.json
	-$(BIN)/python bench/abuse.py $(BENCH_FLAGS) --json $(BENCH_OUT)/abuse.json
	-$(BIN)/python bench/scale.py $(BENCH_FLAGS) --json $(BENCH_OUT)/scale.json
	$(BIN)/python bench/report.py --out $(BENCH_OUT) --markdown $(BENCH_RESULTS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis pwa/node_modules pwa/dist

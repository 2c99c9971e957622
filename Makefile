# Two commands for a newcomer: `make run` serves the demo conference, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kumpul-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint types pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/kumpul serve --demo --host $(HOST) --port $(PORT)

test: check pytest

check: lint types

lint: $(STAMP)
	$(BIN)/ruff check server sync tests bench
	$(BIN)/ruff format --check server sync tests bench

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/programme.py --json bench/out/programme.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The two commands a newcomer needs: `make run` and `make test`. Both build .venv when it is missing.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the machine's own PostgreSQL 15, for the second pass of the event-store tests in CI
SYSTEM_PG ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test test-system-pg faults soak bench loadtest lint typecheck clean-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/orders up

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider \
	    --cov --cov-branch --cov-report=term:skip-covered \
	    --cov-report=html:.data/coverage
	@echo "domain branch coverage (goal 95%): $$($(BIN)/coverage report --include='domain/*' --precision=1 --format=total)%"
	@$(BIN)/coverage report --include='domain/*' --fail-under=95 > /dev/null

# The event store's tests once more on another PostgreSQL (CI: the machine's PostgreSQL 15).
test-system-pg: $(STAMP)
	DATABASE_URL=$(SYSTEM_PG) $(BIN)/pytest -q -p no:cacheprovider tests/integration -k eventstore

# Fault injection against the running services, every fault more times (the short set runs in
# `make test`), and the soak: mixed traffic with random faults, then the final invariants.
faults: $(STAMP)
	ORDERS_FAULTS=full $(BIN)/pytest -q -p no:cacheprovider -m faults tests/faults

MINUTES ?= 10
INSTANCES ?= 2
soak: $(STAMP)
	$(BIN)/orders soak --minutes $(MINUTES) --instances $(INSTANCES)

bench: $(STAMP)
	$(BIN)/orders bench all

loadtest: $(STAMP)
	$(BIN)/orders loadtest $(LOADTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy domain eventstore readmodels command_api query_api orders launch projector migrations loadtest

clean-data:
	$(BIN)/orders servers stop || true
	rm -rf .data

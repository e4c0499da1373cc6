# Social Pulse — the two commands: `make demo` and `make test`. Both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The test stack runs on its own ports and data folder, so `make test` never touches a running demo.
TEST_ENV := PULSE_DATA_DIR=$(CURDIR)/.pulse-test PULSE_KAFKA_BOOTSTRAP=127.0.0.1:19092 \
	PULSE_DEV_KAFKA_CONTROLLER_PORT=19093 PULSE_CLICKHOUSE_URL=clickhouse://default:@127.0.0.1:19000/pulse \
	PULSE_DEV_CLICKHOUSE_HTTP_PORT=18123 PULSE_TOPIC_PARTITIONS=6

.PHONY: setup system-tools demo test lint typecheck unit integration stack-up stack-down clean help

help:
	@echo "make demo   - set everything up and run the live demo on the local stack"
	@echo "make test   - set everything up, start the test stack, run lint, types and every test"
	@echo "make setup  - .venv with pinned dependencies, Kafka jars, system tools (idempotent)"

setup: $(BIN)/.installed system-tools
	@$(BIN)/pulse dev fetch >/dev/null

$(BIN)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[devstack,test]'
	@touch $@

system-tools:
	@bash deploy/dev/install-system-tools.sh

# `make demo DEMO_ARGS="--duration 60"` ends by itself with a summary.
demo: setup
	$(BIN)/pulse demo $(DEMO_ARGS)

lint:
	$(BIN)/ruff check sources streams schemas sinks pulse tests

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest -q tests/unit

stack-up:
	$(TEST_ENV) $(BIN)/pulse dev up
	$(TEST_ENV) $(BIN)/pulse migrate

stack-down:
	-$(TEST_ENV) $(BIN)/pulse dev down

# Lint, types and unit tests need no services; the integration suite runs against the real stack,
# which is stopped afterwards whether the tests passed or not.
test: setup
	$(MAKE) --no-print-directory lint typecheck
	@rm -rf .pulse-test
	@$(MAKE) --no-print-directory stack-up || { $(MAKE) --no-print-directory stack-down; exit 1; }
	@$(TEST_ENV) $(BIN)/pytest -q tests; rc=$$?; $(MAKE) --no-print-directory stack-down; exit $$rc

clean: stack-down
	rm -rf .pulse-test .mypy_cache .ruff_cache .pytest_cache

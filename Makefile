# Social Pulse — the two commands: `make demo` and `make test`. Both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The test stack runs on its own ports and data folder, so `make test` never touches a running demo.
TEST_ENV := PULSE_DATA_DIR=$(CURDIR)/.pulse-test PULSE_KAFKA_BOOTSTRAP=127.0.0.1:19092 \
	PULSE_DEV_KAFKA_CONTROLLER_PORT=19093 PULSE_CLICKHOUSE_URL=clickhouse://default:@127.0.0.1:19000/pulse \
	PULSE_DEV_CLICKHOUSE_HTTP_PORT=18123 PULSE_TOPIC_PARTITIONS=6

# The hot pure-logic modules, compiled with mypyc (setup.py); rebuilt when one of them changes.
NATIVE_SOURCES := $(shell sed 's/\#.*//' native-modules.txt)
NATIVE := build/.native

.PHONY: setup system-tools native pure demo test lint typecheck unit integration stack-up stack-down clean help

help:
	@echo "make demo   - set everything up and run the live demo on the local stack"
	@echo "make test   - set everything up, start the test stack, run lint, types and every test"
	@echo "make setup  - .venv with pinned dependencies, Kafka jars, system tools, native modules (idempotent)"
	@echo "make native - compile the hot modules (native-modules.txt) with mypyc; make pure - remove them"

setup: $(BIN)/.installed system-tools $(NATIVE)
	@$(BIN)/pulse dev fetch >/dev/null

$(BIN)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[devstack,test]'
	@touch $@

native: $(NATIVE)

# Without a C compiler the pipeline runs as pure Python: the same results, more CPU per event.
$(NATIVE): $(BIN)/.installed setup.py native-modules.txt $(NATIVE_SOURCES)
	@$(MAKE) --no-print-directory pure
	@mkdir -p build
	@if command -v cc >/dev/null 2>&1; then \
	  echo "native: compiling $(words $(NATIVE_SOURCES)) modules with mypyc (about a minute)"; \
	  PULSE_NATIVE=1 $(BIN)/python setup.py build_ext --inplace >build/native.log 2>&1 \
	    || { tail -20 build/native.log; echo "native: mypyc failed (build/native.log); make pure runs without it"; exit 1; }; \
	else echo "native: no C compiler (cc): the pipeline runs as pure Python"; fi
	@touch $@

pure:
	@find streams schemas sinks -name '*.so' -delete
	@rm -f streams/_native_sources.json $(NATIVE)

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
	PULSE_PURE_PYTHON=1 $(BIN)/pytest -q tests/unit

stack-up:
	$(TEST_ENV) $(BIN)/pulse dev up
	$(TEST_ENV) $(BIN)/pulse migrate

stack-down:
	-$(TEST_ENV) $(BIN)/pulse dev down

# Lint, types and unit tests need no services; the integration suite runs against the real stack,
# which is stopped afterwards whether the tests passed or not.
test: setup
	$(MAKE) --no-print-directory lint typecheck
	@echo "unit tests on the pure-Python modules (the whole suite follows on the compiled ones)"
	@$(MAKE) --no-print-directory unit
	@rm -rf .pulse-test
	@$(MAKE) --no-print-directory stack-up || { $(MAKE) --no-print-directory stack-down; exit 1; }
	@$(TEST_ENV) $(BIN)/pytest -q tests; rc=$$?; $(MAKE) --no-print-directory stack-down; exit $$rc

clean: stack-down pure
	rm -rf .pulse-test .mypy_cache .ruff_cache .pytest_cache build

# Entry points. Each target creates the virtualenv and installs pinned dependencies on first use.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.obs-installed
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: help demo test test-full lint typecheck check bench bench-quick clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): constraints.txt requirements-dev.txt packages/obs-core/pyproject.toml packages/obs-langchain/pyproject.toml packages/obs-llamaindex/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-dev.txt \
		-e 'packages/obs-core[otlp,postgres,prometheus]' -e packages/obs-langchain -e packages/obs-llamaindex \
		2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
	touch $(STAMP)

demo: $(STAMP)  ## run the offline demo and show its traces from the local store
	$(BIN)/python examples/demo.py

test: $(STAMP)  ## run the test suite (what CI runs)
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP)  ## mypy --strict over the packages
	$(BIN)/mypy

check: lint typecheck test  ## everything CI cares about

BENCH_STAMP := $(VENV)/.obs-bench-installed

$(BENCH_STAMP): $(STAMP) benchmarks/requirements.txt
	$(PIP_INSTALL) -r benchmarks/requirements.txt 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## overhead benchmarks against a no-tracer baseline and peers (several minutes)
	$(BIN)/python benchmarks/run.py

bench-quick: $(BENCH_STAMP)  ## a short benchmark run
	$(BIN)/python benchmarks/run.py --quick

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

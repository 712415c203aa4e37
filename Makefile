# patrolwatch developer commands. Needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
INCIDENT := src/patrolwatch/data/incidents/2019-07-23-sea-of-japan

.PHONY: help install demo test lint typecheck unit bench clean

help:
	@echo "make demo   - create .venv, install, run the flagship analysis on bundled data (out/)"
	@echo "make test   - lint, type-check and run the whole test suite"
	@echo "make bench  - benchmarks against peer tools (bench/results/)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/patrolwatch crossings $(INCIDENT)/tracks.csv --zones $(INCIDENT)/zones.geojson \
		--near 30km --out out/events.csv
	@echo ""
	@echo "Outputs are in out/: out/events.csv (one row per zone visit or near pass)."

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

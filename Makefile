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
	$(BIN)/patrolwatch analyze $(INCIDENT)/tracks.csv --zones $(INCIDENT)/zones.geojson \
		--near 30km --out out --title "23 July 2019, Sea of Japan: joint China-Russia air patrol (reconstruction)"
	@echo ""
	@echo "Report: $(CURDIR)/out/report.html (open it in a browser; it works offline)"
	@echo "Also in out/: events.csv, events.parquet, formations.csv, map.png, manifest.json, ingest_report.json"

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

# Peers live in their own environment (bench/.venv), created by bench/run.
bench:
	PYTHON="$(PYTHON)" bash bench/run $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

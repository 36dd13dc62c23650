# The two commands of the README, plus the benchmarks. Each bootstraps .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench check clean

EXAMPLE_PLUGIN := examples/plugins/waypost-pnc-check

$(STAMP): pyproject.toml $(EXAMPLE_PLUGIN)/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[test,dev]'
	# The worked example plugin is installed through its entry point, as a force would install one.
	$(PY) -m pip install --quiet --no-build-isolation -e $(EXAMPLE_PLUGIN)
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/waypost check examples/demo-force
	mkdir -p var
	$(VENV)/bin/waypost serve examples/demo-force --reload --database sqlite:///var/demo.db

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check dsl forms workflows renderers engine
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

check: $(STAMP)
	$(VENV)/bin/waypost check examples/demo-force

bench: $(STAMP)
	# SpiffWorkflow is the reference of the workflow suite only: never a dependency of Waypost.
	$(PY) -m pip install --quiet 'SpiffWorkflow>=3'
	$(PY) -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache

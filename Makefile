# The two commands of the README, plus the benchmarks. Each bootstraps .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# axe-core for the real-browser accessibility tests (tests/browser); test-only, never served.
NODE_STAMP := node_modules/.installed-stamp

.PHONY: run test lint bench check clean

EXAMPLE_PLUGIN := examples/plugins/waypost-pnc-check

$(STAMP): pyproject.toml $(EXAMPLE_PLUGIN)/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[test,dev]'
	# The worked example plugin is installed through its entry point, as a force would install one.
	$(PY) -m pip install --quiet --no-build-isolation -e $(EXAMPLE_PLUGIN)
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The demo back-ends (crime records :8101, safeguarding hub :8102, emails :8103, SMTP :1025; see
# docs/demo.md) run around the server, which gets their addresses; Ctrl-C stops everything.
run: $(STAMP)
	$(VENV)/bin/waypost check examples/demo-force
	mkdir -p var
	$(PY) -m examples.demo_backends.run --state var/demo-backends -- \
		$(VENV)/bin/waypost serve examples/demo-force --reload --demo-users --database sqlite:///var/demo.db

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check dsl forms workflows renderers engine
	$(PY) -m mypy
	# The demo back-ends live in examples/, outside the packages mypy's configuration lists.
	$(PY) -m mypy --strict --explicit-package-bases --no-warn-unused-configs examples/demo_backends

test: lint $(NODE_STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(VENV)/bin/waypost check examples/demo-force

bench: $(STAMP)
	# SpiffWorkflow is the reference of the workflow suite only: never a dependency of Waypost.
	$(PY) -m pip install --quiet 'SpiffWorkflow>=3'
	# wrk loads the web suite's servers (Debian's package; without it that figure is not measured).
	command -v wrk >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q --no-install-recommends wrk; } \
		|| echo "wrk could not be installed: the web suite will not measure requests/s"
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache

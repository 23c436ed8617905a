# Clarion: `make dev` runs the local stack on :3000, `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
# checkov pins its own boto3 and friends: it lives in its own venv, like sam.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
BIN := $(VENV)/bin
# sam build for the python3.13 runtime needs a 3.13 interpreter first on PATH: pyenv's, or one on
# PATH, or else a managed 3.13 that uv (from PyPI, in its own venv) downloads into .python/.
UV_VENV := .venv-uv
UV_VERSION := 0.13.9
UV_PYTHONS := $(CURDIR)/.python
PY313_NEEDED := sam build needs Python 3.13 (the functions' runtime): install one (pyenv install 3.13, or python3.13 from python.org)
# Recursive (=): looked up again after `python313` has installed one.
PY313 = $(shell { pyenv prefix 3.13 2>/dev/null | sed 's|$$|/bin/python3.13|'; command -v python3.13; \
	ls $(UV_PYTHONS)/cpython-3.13*/bin/python3.13 2>/dev/null; } | while read -r candidate; do \
	"$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && \
	{ echo "$$candidate"; break; }; done)

export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test lint typecheck validate checkov python313 build pytest unit integration e2e invoke bench load fuzz clean chromium

$(VENV)/.installed: pyproject.toml layers/core/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip install -q -e '.[dev]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -c "import clarion, clarion_cli, moto, pytest"
	touch $@

# The official client SDKs the e2e tests drive, unmodified.
$(VENV)/.sdk-installed: $(VENV)/.installed tests/e2e/sdk/requirements.txt tests/e2e/sdk/node/package-lock.json
	$(BIN)/pip install -q -r tests/e2e/sdk/requirements.txt 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip check
	npm ci --prefix tests/e2e/sdk/node --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium, for the browser test of Novu's <Inbox /> (tests/e2e/test_inbox_browser.py);
# installed with apt when missing and running as root (CI), else the command to run is named.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "the browser test needs chromium: sudo apt-get install -y chromium"; exit 1; }

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q aws-sam-cli==$(SAM_VERSION) 2>&1 | grep -v 'is ignored' || true
	$(SAM_VENV)/bin/sam --version
	touch $@

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==$(CHECKOV_VERSION) 2>&1 | grep -v 'is ignored' || true
	$(CHECKOV_VENV)/bin/checkov --version
	touch $@

## dev: set up and run the local stack (gateway :3000, AWS emulator :4566). Ctrl-C stops it.
dev: $(VENV)/.installed
	$(BIN)/clarion dev

## invoke: one function on one event, e.g. make invoke FUNCTION=ApiFunction EVENT=events/api_bulk_trigger.json
invoke: $(VENV)/.installed
	$(BIN)/clarion invoke $(FUNCTION) $(EVENT)

## test: lint, types, template checks (sam validate --lint, checkov), sam build, then unit, integration and e2e tests.
test: lint typecheck validate checkov build pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check --output-format concise .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy layers/core/clarion

validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

## checkov: the IaC scanner; any finding not skipped with a reason in template.yaml fails it.
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

## python313: a Python 3.13 for sam build; without one, uv installs a managed 3.13 (or says what to install).
python313:
	@test -n "$(PY313)" || { \
		echo "no Python 3.13 found: installing a managed one with uv $(UV_VERSION) into .python/"; \
		{ test -x $(UV_VENV)/bin/uv || { $(PYTHON) -m venv $(UV_VENV) && \
			$(UV_VENV)/bin/pip install -q uv==$(UV_VERSION) 2>&1 | grep -v 'is ignored'; true; }; } && \
		UV_PYTHON_INSTALL_DIR=$(UV_PYTHONS) $(UV_VENV)/bin/uv python install --no-bin 3.13; } || \
		{ echo "$(PY313_NEEDED)"; exit 1; }
	@test -n "$(PY313)" || { echo "$(PY313_NEEDED)"; exit 1; }
	@echo "Python 3.13 for sam build: $(PY313)"

build: $(SAM_VENV)/.installed python313
	PATH="$(dir $(PY313)):$$PATH" $(SAM_VENV)/bin/sam build

pytest: $(VENV)/.sdk-installed chromium
	CLARION_REQUIRE_BUILD=1 CLARION_REQUIRE_SDKS=1 $(BIN)/pytest -q

unit: $(VENV)/.installed
	$(BIN)/pytest -q tests/unit

integration: $(VENV)/.installed
	$(BIN)/pytest -q tests/integration

e2e: $(VENV)/.sdk-installed chromium
	CLARION_REQUIRE_SDKS=1 $(BIN)/pytest -q tests/e2e

## bench: figures (AWS calls, write units, cold imports, latency ratios, cost); writes docs/PERFORMANCE.md
bench: $(VENV)/.installed
	$(BIN)/python -m bench

## fuzz: many examples: schemathesis on every route of the local stack, the dialects' properties,
## and the fault-injection run at 10,000 notifications
fuzz: $(VENV)/.installed
	CLARION_FUZZ_EXAMPLES=100 $(BIN)/pytest -q tests/e2e/test_schemathesis.py tests/e2e/test_altcraft_fuzz.py
	CLARION_PROPERTY_EXAMPLES=2000 $(BIN)/pytest -q tests/unit/test_dialect_properties.py tests/integration/test_trigger_properties.py
	CLARION_FAULT_NOTIFICATIONS=10000 $(BIN)/pytest -q tests/integration/test_fault_injection.py

## load: 60 s of bulks against the local stack from a second process; accepted/s, latencies, queue depth
load: $(VENV)/.installed
	$(BIN)/python -m bench.load --seconds 60

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(UV_VENV) .python .aws-sam .clarion .pytest_cache .mypy_cache .ruff_cache

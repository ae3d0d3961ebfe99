# Two commands for a newcomer: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# SAM CLI pins its own boto3 and cfn-lint, so it lives in a virtualenv of its own.
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
# checkov pins many dependencies of its own: a virtualenv of its own too.
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# MiniStack (MIT), the AWS emulator `make deploy-smoke` deploys onto: a python3.13 virtualenv of
# its own, since its interpreter runs the functions; with the SAM transform it needs, and a
# boto3 standing for the Lambda runtime's (pinned to the botocore MiniStack pins).
MINISTACK_VENV := .tools/ministack
REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint pytest quick unit handler tools infra e2e attacks validate scan bench bench-faults crowd build deploy-smoke events dashboard clean

# Installs say what they do; pip shows its progress on a terminal and stays quiet in CI.
PIP_QUIET := $(if $(CI),--quiet,)

$(BIN)/.installed: pyproject.toml
	@echo "make: installing the bridge and its dev tools into $(VENV)/ (about 500 MB, 1-3 minutes, once)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install $(PIP_QUIET) -e ".[dev]"
	touch $@

$(SAM_VENV)/.installed:
	@echo "make: installing AWS SAM CLI into $(SAM_VENV)/ (about 340 MB, 1-2 minutes, once)"
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install $(PIP_QUIET) aws-sam-cli
	touch $@

$(CHECKOV_VENV)/.installed:
	@echo "make: installing checkov into $(CHECKOV_VENV)/ (about 290 MB, 1-2 minutes, once)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install $(PIP_QUIET) checkov==3.3.30
	touch $@

$(MINISTACK_VENV)/.installed:
	@echo "make: installing MiniStack, an AWS emulator, into $(MINISTACK_VENV)/ (about 100 MB, under a minute, once)"
	$(WITH_PY313) python3.13 -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/pip install --quiet --upgrade pip
	$(MINISTACK_VENV)/bin/pip install $(PIP_QUIET) ministack==1.5.33 boto3==1.43.106 aws-sam-translator==1.115.0
	touch $@

# `make run PORT=3001 DYNAMODB_PORT=8001` when the default ports are taken.
PORT ?= 3000
DYNAMODB_PORT ?= 8000
run: $(BIN)/.installed
	$(BIN)/dialin serve --port $(PORT) --dynamodb-port $(DYNAMODB_PORT)

test: lint pytest validate scan

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: $(BIN)/.installed
	$(BIN)/pytest

# One tier at a time: tests/{unit,handler,tools,infra,e2e,attacks}. `make quick` runs the
# three fast ones (unit, tools, infra) in one pytest, in under a minute; then `make handler`
# (real handlers on moto, about a minute), `make e2e` and `make attacks` (minutes each).
quick: $(BIN)/.installed
	$(BIN)/pytest tests/unit tests/tools tests/infra -q

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit

handler: $(BIN)/.installed
	$(BIN)/pytest tests/handler -q

tools: $(BIN)/.installed
	$(BIN)/pytest tests/tools -q

infra: $(BIN)/.installed
	$(BIN)/pytest tests/infra -q

e2e: $(BIN)/.installed
	$(BIN)/pytest tests/e2e

# Each attack of docs/brute-force.md, on moto and through `dialin serve`; prints the guesses
# per hour the simulated campaign measured.
attacks: $(BIN)/.installed
	$(BIN)/pytest tests/attacks -q

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --region $(REGION)

# Infrastructure scan, offline: 0 failed checks; each skip carries its reason in the template.
scan: $(CHECKOV_VENV)/.installed
	$(CHECKOV) -f template.yaml --framework cloudformation --skip-download --compact --quiet

# Time to answer under each injected fault (DynamoDB and Secrets Manager), with the real
# client timeouts and retries; writes bench/results/faults.json. Also part of `make bench`.
bench-faults: $(BIN)/.installed
	$(BIN)/python bench/faults.py

# Crowds: ROOMS rooms x 35 phone callers (+1 who finds the room full) and video participants,
# all rooms starting at once, through `dialin serve` and a Twilio stand-in answering 429 above
# TWILIO_CONCURRENCY; prints and writes bench/results/crowd.json, exits 1 on any lost
# callback, caller error or state mismatch. About 2 minutes on 2 cores with the defaults (10 rooms).
ROOMS ?= 10
TWILIO_CONCURRENCY ?= 100
crowd: $(BIN)/.installed
	cd bench && ../$(BIN)/python crowd.py --rooms $(ROOMS) --twilio-concurrency $(TWILIO_CONCURRENCY)

# `sam build` needs python3.13 on the PATH; pyenv machines expose it with PYENV_VERSION.
build: $(SAM_VENV)/.installed
	PYENV_VERSION=$${PYENV_VERSION:-3.11.7:3.13.0} $(SAM) build

# The deploy tier (tests/deploy/, not part of `make test`): `sam build` and `sam deploy` onto a
# MiniStack it starts on a free loopback port, then calls, room callbacks, the admin API, an
# update and `sam delete` against the deployed stack. Fake credentials, never real AWS. About a
# minute on 2 cores once installed (sam build ~17 s, each sam deploy ~12 s, sam delete ~3 s).
deploy-smoke: $(BIN)/.installed $(SAM_VENV)/.installed $(MINISTACK_VENV)/.installed
	$(WITH_PY313) $(BIN)/pytest tests/deploy -q

# Regenerate events/*.json and events/env.json (signed with the documented dev token).
events: $(BIN)/.installed
	$(BIN)/python -m dialin_tools.lib.sample_events

# Rewrite the Dashboard's body in template.yaml (between its marker comments) from the widgets
# in tools/dialin_tools/lib/dashboard.py; tests/infra/test_dashboard.py checks it is current.
dashboard: $(BIN)/.installed
	$(BIN)/python -m dialin_tools.lib.dashboard

clean:
	rm -rf $(VENV) .tools .aws-sam .pytest_cache .ruff_cache .mypy_cache

# `make bench`: cold init, warm requests, the local server and sizes (bench/run.py), then
# the time to answer under each injected fault (bench/faults.py).
# It runs python3.13 processes on the `sam build` output, with two bench-only directories
# beside it: Lambda's runtime copy of boto3, and the conventional handler's dependencies.
WITH_PY313 := PYENV_VERSION=$${PYENV_VERSION:-3.11.7:3.13.0}
BENCH_RUNTIME := .tools/bench-runtime
BENCH_CONVENTIONAL := .tools/bench-conventional

$(BENCH_RUNTIME)/.installed: bench/requirements-runtime.txt
	rm -rf $(BENCH_RUNTIME)
	$(WITH_PY313) python3.13 -m pip install --quiet --disable-pip-version-check --target $(BENCH_RUNTIME) -r $<
	$(WITH_PY313) python3.13 -m compileall -q -j 0 $(BENCH_RUNTIME)
	touch $@

$(BENCH_CONVENTIONAL)/.installed: bench/requirements-conventional.txt $(BENCH_RUNTIME)/.installed
	rm -rf $(BENCH_CONVENTIONAL)
	$(WITH_PY313) python3.13 -m pip install --quiet --disable-pip-version-check --target $(BENCH_CONVENTIONAL) -r $<
	cd $(BENCH_CONVENTIONAL) && rm -rf bin boto3 boto3-* botocore botocore-* s3transfer s3transfer-*
	$(WITH_PY313) python3.13 -m compileall -q -j 0 $(BENCH_CONVENTIONAL)
	touch $@

bench: $(BIN)/.installed $(SAM_VENV)/.installed $(BENCH_RUNTIME)/.installed $(BENCH_CONVENTIONAL)/.installed
	$(WITH_PY313) $(SAM) build
	$(WITH_PY313) $(BIN)/python bench/run.py
	$(BIN)/python bench/faults.py

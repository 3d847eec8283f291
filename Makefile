# llmplane: `make plan` and `make test` need only python3 and make; `make preview/up` need the Pulumi CLI.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CHECKOV_VENV ?= .venv-checkov
STACK ?=
SECRETS_PROVIDER ?= passphrase

.PHONY: install plan test lint typecheck unit bench preview up clean

# The stamp makes `make` reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml
	@# Only when missing: re-running venv over an existing one re-points it at whichever python3
	@# is first on PATH, which can leave it pointing at an interpreter without its stdlib.
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -e '.[dev]' $(EDITABLE)
	@# Editable installs leave the project's own modules uncompiled, and PYTHONDONTWRITEBYTECODE
	@# (set on some machines) stops Python caching them: compile once, here.
	$(PY) -m compileall -q infra components policies
	rm -f $(VENV)/.linked-*
	touch $@ $(LINKED)

# Strict editable mode links each file of the package into build/__editable__.*, which pyright
# and Python both follow; a module added or removed needs new links. The stamp's name is a hash
# of the file list, so adding a file (not editing one) relinks, in a few seconds, without deps.
EDITABLE := --config-settings editable_mode=strict
LINKED := $(VENV)/.linked-$(shell find infra components policies -type f -not -path '*/__pycache__/*' | LC_ALL=C sort | cksum | cut -d' ' -f1)
$(LINKED): $(VENV)/.installed
	$(PY) -m pip install -qq --no-deps -e . $(EDITABLE)
	rm -f $(VENV)/.linked-*
	touch $@

# checkov pins packaging<24 and pulumi needs packaging>=26: it cannot share the project's venv.
$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -qq --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -qq 'checkov>=3.2,<4'
	touch $@

install: $(VENV)/.installed $(LINKED) $(CHECKOV_VENV)/.installed

plan: install
	$(BIN)/llmplane plan

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/pyright

unit: install
	$(BIN)/pytest

test: lint typecheck unit

bench: install
	$(PY) bench/plan_speed.py
	$(PY) bench/compare_speed.py
	$(PY) bench/check_speed.py
	$(PY) bench/plan_scale.py

# The real path: checks the stack offline first (a bad stack fails here, with or without the
# Pulumi CLI), then hands it to the Pulumi CLI.
define pulumi_stack
	@test -n "$(STACK)" || { echo "make $@: set STACK, e.g. make $@ STACK=kubernetes-dev" >&2; exit 2; }
	@$(BIN)/llmplane plan $(STACK) > /dev/null
	@command -v pulumi >/dev/null || { echo "make $@: the Pulumi CLI is not installed; see README.md" >&2; exit 2; }
	pulumi stack select --create --secrets-provider $(SECRETS_PROVIDER) $(STACK)
endef

preview: install
	$(pulumi_stack)
	pulumi preview --stack $(STACK) --diff

up: install
	$(pulumi_stack)
	pulumi up --stack $(STACK)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache build *.egg-info

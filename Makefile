# aurorakit — the two commands a newcomer runs are `make preview` and `make test`.
# Both install what they need first (Debian packages, then ./venv from the requirements files).
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
# preview needs only graphviz's `dot` (the diagram), installed with apt only when it is missing;
# the tests also need real MariaDB/PostgreSQL, Chromium (browser test), cloud-init
# (`cloud-init schema`) and systemd (`systemd-analyze verify`).
APT_TEST := graphviz mariadb-server postgresql chromium chromium-driver cloud-init systemd

# Installs the Debian packages $(1) unless all are present already.
define apt_install
	@if dpkg -s $(1) >/dev/null 2>&1; then echo "apt: $(1): present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); fi
endef

.PHONY: deps apt apt-preview venv venv-preview preview diagram lint test bench docs schema urns lock artifacts clean

deps: apt venv

apt:
	$(call apt_install,$(APT_TEST))

apt-preview:
	@if command -v dot >/dev/null 2>&1; then echo "graphviz: $$(command -v dot) present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; fi

# The full virtualenv (tests, benchmarks) includes everything preview needs.
$(VENV)/.installed: requirements.txt requirements-preview.txt requirements-dev.txt policy/requirements.txt app/requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.preview

$(VENV)/.preview: requirements.txt requirements-preview.txt policy/requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-preview.txt
	touch $@

venv: $(VENV)/.installed

venv-preview: $(VENV)/.preview

# The main job: engine-free preview + policy check of the dev stack (STACK=prod for prod).
preview: apt-preview venv-preview
	$(PY) -m preflight --stack $(STACK) --diagram docs/architecture-$(STACK).svg

# The README's picture: prod's architecture as preflight records it.
diagram: apt-preview venv-preview
	$(PY) -m preflight --stack prod --quiet --diagram docs/architecture.svg

# The lint gate (terraform-aws-modules keep theirs in pre-commit): ruff (pyflakes, pycodestyle,
# isort, bugbear, pyupgrade) and mypy over components/, policy/, preflight/ and app/, both
# configured in pyproject.toml (mypy's `files` names the four). `ruff format` is not part of it:
# the tree keeps its hand formatting.
lint: venv
	$(VENV)/bin/ruff check components policy preflight app
	$(VENV)/bin/mypy

# The lint gate first, then every test on two workers (pytest-xdist; the suite is xdist-safe).
PYTEST_WORKERS ?= 2
test: deps lint
	$(PY) -m pytest -n $(PYTEST_WORKERS)

bench: deps
	$(PY) bench/run.py

# Pin every program's resource URNs (tests/golden/): review the diff, a changed URN is a replacement.
urns: venv
	$(PY) -m tests.golden.urns

# Regenerate the README's generated tables (config keys, policy rules).
docs: venv
	$(PY) docs/sync_readme.py

# Regenerate the component package's schema (provider/schema.json, committed: API changes show in
# diffs) from the components' annotations and docstrings, as the provider serves it.
schema: venv-preview
	$(PY) -m components.provider --write-schema provider/schema.json

# Regenerate app/requirements.lock (the host's hashed wheels, x86_64 + aarch64) from
# app/requirements.txt; needs PyPI. Run it after changing app/requirements.txt.
lock: venv
	$(PY) -m app.lockfile

# Download the hosts' boot artifacts into build/artifacts/ (the wheels of app/requirements.lock for
# x86_64 and aarch64 from PyPI, the RDS CA bundle from AWS), each checked against its pin. Needs
# the network; run it before a real `pulumi preview` or `pulumi up` (they upload these files to the
# stack's bucket). preflight and the tests never need it.
artifacts: venv-preview
	$(PY) -m app.boot_artifacts

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

# aurorakit — the two commands a newcomer runs are `make preview` and `make test`.
# Both install what they need first (Debian packages, then ./venv from the requirements files).
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
APT_PACKAGES := mariadb-server postgresql chromium chromium-driver graphviz cloud-init systemd

.PHONY: deps apt venv preview diagram test bench docs clean

deps: apt venv

# Debian packages for the app tests (real MariaDB/PostgreSQL), the browser test (Chromium),
# diagrams (graphviz), `cloud-init schema` and `systemd-analyze verify` of the app's unit. Skipped when all are already installed.
apt:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then echo "apt: all packages present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); fi

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt app/requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The main job: engine-free preview + policy check of the dev stack.
preview: deps
	$(PY) -m preflight --stack $(STACK) --diagram docs/architecture-$(STACK).svg

# The README's picture: prod's architecture as preflight records it.
diagram: deps
	$(PY) -m preflight --stack prod --quiet --diagram docs/architecture.svg

test: deps
	$(PY) -m pytest

bench: deps
	$(PY) bench/run.py

# Regenerate the README's generated tables (config keys, policy rules).
docs: venv
	$(PY) docs/sync_readme.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts

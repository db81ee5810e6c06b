# aurorakit — the two commands a newcomer runs are `make preview` and `make test`.
# Both install what they need first (Debian packages, then ./venv from the requirements files).
SHELL := /bin/bash
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
# preview needs only graphviz (the diagram); the tests also need real MariaDB/PostgreSQL,
# Chromium (browser test), cloud-init (`cloud-init schema`) and systemd (`systemd-analyze verify`).
APT_PREVIEW := graphviz
APT_TEST := $(APT_PREVIEW) mariadb-server postgresql chromium chromium-driver cloud-init systemd

# Installs the Debian packages $(1) unless all are present already.
define apt_install
	@if dpkg -s $(1) >/dev/null 2>&1; then echo "apt: $(1): present"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); fi
endef

.PHONY: deps apt apt-preview venv preview diagram test bench docs lock clean

deps: apt venv

apt:
	$(call apt_install,$(APT_TEST))

apt-preview:
	$(call apt_install,$(APT_PREVIEW))

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt app/requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The main job: engine-free preview + policy check of the dev stack (STACK=prod for prod).
preview: apt-preview venv
	$(PY) -m preflight --stack $(STACK) --diagram docs/architecture-$(STACK).svg

# The README's picture: prod's architecture as preflight records it.
diagram: apt-preview venv
	$(PY) -m preflight --stack prod --quiet --diagram docs/architecture.svg

test: deps
	$(PY) -m pytest

bench: deps
	$(PY) bench/run.py

# Regenerate the README's generated tables (config keys, policy rules).
docs: venv
	$(PY) docs/sync_readme.py

# Regenerate app/requirements.lock (the host's hashed wheels, x86_64 + aarch64) from
# app/requirements.txt; needs PyPI. Run it after changing app/requirements.txt.
lock: venv
	$(PY) -m app.lockfile

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts

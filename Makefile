# wotrus.pki — every target installs what it needs and stops what it starts.
#   make demo   sandbox + the main playbook against local SSH test hosts
#   make test   lint, sanity, unit, sandbox and integration tests
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON   ?= python3.11
VENV     := .venv
BIN      := $(CURDIR)/$(VENV)/bin
STAMP    := $(VENV)/.installed
TMP      := $(CURDIR)/.tmp
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>.
SANITY_ROOT := $(TMP)/sanity/ansible_collections/wotrus/pki
SANITY_PY   ?= 3.11
GET_PIP     := $(HOME)/.ansible/test/cache/get_pip_24_2.py
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help venv demo test lint changelog-lint sanity unit sandbox-test integration hosts-test role-test push-test \
        package-check bench reliability reliability-fast awx-test awx-slicing clean

help:
	@echo "make demo   start the sandbox, issue and deploy certificates, show where they are"
	@echo "make test   lint, sanity, unit, sandbox and integration tests (CI runs this)"
	@echo "make reliability  fault matrix, bad inputs, concurrency, kills, secrets; writes docs/reliability.md"
	@echo "make awx-slicing  4 sliced ansible-runner jobs x 12 hosts against a rate-limited sandbox: figures (docs/awx.md)"
	@echo "make venv   create .venv and link the collection for use from this checkout"
	@echo "make clean  remove .venv, .collections, .tmp and test output"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	mkdir -p .collections/ansible_collections/wotrus
	ln -sfn ../../.. .collections/ansible_collections/wotrus/pki
	touch $@

test: lint sanity unit release-check sandbox-test integration examples-test hosts-test role-test report-test push-test awx-test \
      oldest-core-test reliability-fast docs-site importer-check package-check
	@echo "make test: all suites passed"

lint: $(STAMP) changelog-lint
	$(BIN)/ansible-lint --profile production
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.collections $(BIN)/antsibull-docs lint-collection-docs --plugin-docs \
	  .collections/ansible_collections/wotrus/pki

changelog-lint: $(STAMP)
	$(BIN)/antsibull-changelog lint

# Sanity runs on a copy laid out as ansible_collections/wotrus/pki, holding what
# the built collection holds (galaxy.yml build_ignore) plus tests/unit and
# tests/integration.
sanity: $(STAMP)
	mkdir -p $(dir $(GET_PIP))
	cp .ci/get_pip.py $(GET_PIP)
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z -- .gitignore galaxy.yml meta plugins roles playbooks docs changelogs README.md \
	    tests/unit tests/integration tests/sanity extensions LICENSE COPYING \
	  | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	# Its own git index: ansible-test lists files with git, and .tmp/ is ignored here.
	cd $(SANITY_ROOT) && git init -q && git add -A \
	  && $(BIN)/ansible-test sanity --venv --python $(SANITY_PY) --color no

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

sandbox-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/sandbox

integration: $(STAMP)
	$(BIN)/python tests/integration/run.py

# The role over real SSH: sshd + nginx per loopback address (tests/hosts/), and Debian's
# apache2 and haproxy (tests/role/test_role_servers.py), Java 17's keytool for the keystore.
# Installed when missing; a temporary policy-rc.d keeps the packages from starting their
# system-wide services (they would hold 0.0.0.0:80).
ROLE_TEST_PKGS := apache2:/usr/sbin/apache2 haproxy:/usr/sbin/haproxy openjdk-17-jre-headless:keytool
role-test: $(STAMP)
	missing=""; for p in $(ROLE_TEST_PKGS); do command -v "$${p#*:}" >/dev/null || missing="$$missing $${p%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  made=0; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
	    chmod 0755 /usr/sbin/policy-rc.d; made=1; fi; \
	  trap 'if [ $$made = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(BIN)/python -m pytest -q tests/role

# The push path with the real ansible-rulebook (Java 17) and one SSH test host (docs/push.md).
# ansible-rulebook needs a Java 17 runtime: installed here when the machine has none.
push-test: $(STAMP)
	command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	$(BIN)/python -m pytest -q tests/push

# AWX's engine (docs/awx.md): ansible-runner jobs with the credential types' injectors rendered as AWX
# does, the execution environment's build context, and a small sliced run (4 slices x 3 hosts) against
# a rate-limited sandbox. Ports: AWX_TEST_SSH_PORT / AWX_TEST_HTTPS_PORT / AWX_TEST_HTTP_PORT.
awx-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/awx

# The full sliced run (4 slices x 12 hosts) with its figures (for docs/awx.md); not part of `make test`.
awx-slicing: $(STAMP)
	AWX_HOSTS_PER_SLICE=12 AWX_SLICING_FIGURES=$(TMP)/awx-slicing.json $(BIN)/python -m pytest -q -s tests/awx/test_slicing.py

hosts-test: $(STAMP)
	bash tests/hosts/selftest.sh

# Last in `make test`, when .tmp holds the test keys: the built collection must
# hold nothing but the collection, and no private key.
package-check: $(STAMP)
	$(BIN)/python tools/package_check.py

# Reliability as figures (tests/reliability/run.py): fault matrix, bad inputs,
# concurrency, kills of the role over the SSH test hosts, secret sentinels.
# The full run writes docs/reliability.md (commit it); the fast subset is a gate.
# The kill matrix uses ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT.
reliability: $(STAMP)
	$(BIN)/python tests/reliability/run.py --full --write docs/reliability.md

reliability-fast: $(STAMP)
	$(BIN)/python tests/reliability/run.py --fast

# Figures, not pass/fail: not part of `make test`.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/python tools/demo.py --state-dir $(TMP)/demo

clean:
	rm -rf $(VENV) .collections $(TMP) tests/output .pytest_cache

# --- The collection ready to release. Each is also part of `make test`.
.PHONY: release-check examples-test importer-check oldest-core-test docs-site report-test bench-report

# playbooks/report.yml over two SSH test hosts (ports as role-test), its page in headless Chromium
# (installed when missing), its .prom parsed as Prometheus does; writes docs/report-screenshot.png.
report-test: $(STAMP)
	[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(BIN)/python -m pytest -q tests/report

# The report of 5,000 certificates: page size and Chromium's load and render time (docs/report.md).
bench-report: $(STAMP)
	[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(BIN)/python benchmarks/report_bench.py

# The first release reads right: antsibull-changelog release in a copy (tools/release_check.py).
release-check: $(STAMP)
	$(BIN)/python tools/release_check.py

# Every module's EXAMPLES, as written, run against the sandbox (tests/examples/run.py).
examples-test: $(STAMP)
	$(BIN)/python tests/examples/run.py

# galaxy-importer (what Galaxy runs on an upload) on the built tarball, offline (tools/importer_check.py).
importer-check: $(STAMP)
	$(BIN)/python tools/importer_check.py

# What is declared is what is tested: the oldest ansible-core of requires_ansible (and the
# community.crypto of the ansible 9 package) in its own venv runs every module's examples
# and the role on a Python 3.8 host (tests/oldest_core/). Ports as role-test.
OLDEST       := $(TMP)/oldest-core
OLDEST_STAMP := $(OLDEST)/.installed
$(OLDEST_STAMP): tests/oldest_core/requirements.txt
	rm -rf $(OLDEST) && $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/pip install --quiet --disable-pip-version-check -r tests/oldest_core/requirements.txt
	touch $@

oldest-core-test: $(STAMP) $(OLDEST_STAMP)
	$(BIN)/python -m pytest -q tests/oldest_core

# The docs site (antsibull-docs + Sphinx -W), offline: no intersphinx fetch (tools/docs_site.py).
docs-site: $(STAMP)
	$(BIN)/python tools/docs_site.py

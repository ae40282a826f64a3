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
        package-check bench reliability reliability-fast clean

help:
	@echo "make demo   start the sandbox, issue and deploy certificates, show where they are"
	@echo "make test   lint, sanity, unit, sandbox and integration tests (CI runs this)"
	@echo "make reliability  fault matrix, bad inputs, concurrency, kills, secrets; writes docs/reliability.md"
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

test: lint sanity unit sandbox-test integration hosts-test role-test push-test reliability-fast package-check
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

# The role over real SSH: sshd + nginx per loopback address (tests/hosts/).
role-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/role

# The push path with the real ansible-rulebook (Java 17) and one SSH test host (docs/push.md).
# ansible-rulebook needs a Java 17 runtime: installed here when the machine has none.
push-test: $(STAMP)
	command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	$(BIN)/python -m pytest -q tests/push

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
	$(BIN)/python benchmarks/run.py

demo: $(STAMP)
	$(BIN)/python tools/demo.py --state-dir $(TMP)/demo

clean:
	rm -rf $(VENV) .collections $(TMP) tests/output .pytest_cache

# --- The collection ready to release (issue 9). Each is also part of `make test`:
# extra prerequisites of `test`, run after the suites listed on its own line.
.PHONY: release-check examples-test importer-check oldest-core-test docs-site
test: release-check examples-test importer-check oldest-core-test docs-site

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

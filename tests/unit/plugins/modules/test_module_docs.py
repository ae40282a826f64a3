# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's documentation, as ansible-doc renders it (doc fragments
merged): the platform attribute, action_group for the modules of an action
group, seealso, requirements naming cryptography where the host needs it, and
a sample for each return value."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULES = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if n.endswith(".py") and not n.startswith("_"))
# Modules that run on the managed host and import cryptography there.
HOST_CRYPTOGRAPHY = ("certificate_status", "certificate_deploy")


@pytest.fixture(scope="module")
def docs():
    from conftest import COLLECTIONS  # noqa: E402 pylint: disable=import-error

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json", "-t", "module"]
                         + ["wotrus.pki." + m for m in MODULES], env=env, check=True, capture_output=True, text=True)
    return {k.split(".")[-1]: v for k, v in json.loads(out.stdout).items()}


@pytest.fixture(scope="module")
def groups():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as f:
        runtime = yaml.safe_load(f)
    return {m: g for g, members in runtime.get("action_groups", {}).items() for m in members}


def _without_sample(returns, prefix=""):
    missing = []
    for name, spec in (returns or {}).items():
        if "sample" not in spec and not spec.get("contains"):
            missing.append(prefix + name)
        missing += _without_sample(spec.get("contains"), prefix + name + ".")
    return missing


@pytest.mark.parametrize("module", MODULES)
def test_documentation(docs, groups, module):
    doc = docs[module]["doc"]
    attributes = doc.get("attributes", {})
    assert "platform" in attributes and attributes["platform"].get("platforms"), module
    if module in groups:
        assert attributes.get("action_group", {}).get("membership") == ["wotrus.pki." + groups[module]], module
    else:
        assert "action_group" not in attributes, module
    assert doc.get("seealso"), module
    if module in HOST_CRYPTOGRAPHY:
        assert any("cryptography" in r for r in doc.get("requirements", [])), module
    assert _without_sample(docs[module]["return"]) == [], module


def test_a_return_value_without_sample_is_found():
    assert _without_sample({"a": {"type": "str", "sample": "x"}, "b": {"type": "dict", "contains": {
        "c": {"type": "int"}}}}) == ["b.c"]

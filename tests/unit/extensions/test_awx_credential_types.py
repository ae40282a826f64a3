# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types (extensions/awx/credential_types/) inject exactly
the environment variables the modules and the role read, mark every secret
as secret, and are well-formed for AWX (its input and injector rules).
How AWX renders them is tested in tests/awx (with ansible-runner)."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import wotrus_argument_spec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TYPES_DIR = os.path.join(ROOT, "extensions", "awx", "credential_types")
TYPES = {"wotrus": "WOTRUS_", "sectigo": "SECTIGO_", "jintong": "JINTONG_"}
# Environment variables that are not a connection setting of a credential.
NOT_CREDENTIALS = {"WOTRUS_PUSH_SECRET"}  # the push receiver's secret (extensions/eda)

# Where the code reads the environment: env fallbacks of argument specs, the
# engine's table, the role's env lookups and the action plugins' os.environ.
_READERS = (
    re.compile(r"env_fallback,\s*\[\s*[\"']([A-Z0-9_]+)[\"']"),
    re.compile(r"os\.environ\.get\(\s*[\"']([A-Z0-9_]+)[\"']"),
    re.compile(r"lookup\(\s*'ansible\.builtin\.env',\s*'([A-Z0-9_]+)'"),
)
_NO_LOG_FALLBACK = re.compile(r"no_log=True.*env_fallback,\s*\[\s*[\"']([A-Z0-9_]+)[\"']")
# awx.main.fields.CredentialTypeInjectorField: env names, and names AWX refuses.
_ENV_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
_AWX_ENV_BLOCKLIST = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
                      "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
                      "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
                      "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"}


def _sources():
    for top in ("plugins", "roles"):
        for dirpath, dummy, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".py", ".yml", ".yaml")):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        yield f.read()


def names_the_code_reads():
    names = set(engine.ENV.values())
    for text in _sources():
        for pattern in _READERS:
            names.update(pattern.findall(text))
    return names - NOT_CREDENTIALS


def secret_names_the_code_reads():
    """Env names of the no_log options (each argument spec's secret fallbacks)."""
    found = set()
    for text in _sources():
        found.update(_NO_LOG_FALLBACK.findall(text))
    for option in wotrus_argument_spec().values():
        if option.get("no_log") and option.get("fallback"):
            found.update(option["fallback"][1])
    return found


def load(kind):
    with open(os.path.join(TYPES_DIR, kind + ".yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def variables_of(template):
    return meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(template))


def test_the_code_reads_what_this_test_looks_for():
    """The readers above still find the names (a test that finds nothing would pass anything)."""
    names = names_the_code_reads()
    assert {"WOTRUS_API_URL", "WOTRUS_API_TOKEN", "WOTRUS_CA_PATH", "SECTIGO_LOGIN_NAME",
            "SECTIGO_LOGIN_PASSWORD", "JINTONG_KEY"} <= names
    assert {"WOTRUS_API_TOKEN", "SECTIGO_LOGIN_PASSWORD", "JINTONG_KEY"} <= secret_names_the_code_reads()


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_injects_only_names_the_code_reads(kind):
    injected = set(load(kind)["injectors"]["env"])
    unknown = injected - names_the_code_reads()
    assert not unknown, "%s.yml injects %s, which no module or role reads" % (kind, sorted(unknown))


@pytest.mark.parametrize("kind,prefix", sorted(TYPES.items()))
def test_injects_every_name_the_code_reads(kind, prefix):
    wanted = set(n for n in names_the_code_reads() if n.startswith(prefix))
    missing = wanted - set(load(kind)["injectors"]["env"])
    assert not missing, "%s.yml does not inject %s, which the code reads" % (kind, sorted(missing))


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_secrets_come_from_secret_fields(kind):
    spec = load(kind)
    secret_fields = set(f["id"] for f in spec["inputs"]["fields"] if f.get("secret"))
    for env, template in spec["injectors"]["env"].items():
        used = variables_of(template)
        if env in secret_names_the_code_reads():
            assert used and used <= secret_fields, "%s must come from a secret field" % env
        else:
            assert not used & secret_fields, "%s would show a secret in the job's environment" % env


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_is_a_valid_awx_credential_type(kind):
    spec = load(kind)
    assert spec["kind"] == "cloud" and spec["name"]
    assert set(spec) <= {"name", "kind", "description", "inputs", "injectors"}
    fields = spec["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids))
    for field in fields:
        assert set(field) <= {"id", "label", "type", "secret", "multiline", "default", "help_text", "format",
                              "choices", "ask_at_runtime"}
        assert field["type"] == "string" and field["label"]
    assert set(spec["inputs"].get("required", [])) <= set(ids)
    assert set(spec["injectors"]) <= {"env", "file", "extra_vars"}
    files = spec["injectors"].get("file", {})
    for label in files:
        assert re.match(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$", label)
    for env, template in spec["injectors"]["env"].items():
        assert _ENV_NAME.match(env) and not env.startswith("ANSIBLE_") and env not in _AWX_ENV_BLOCKLIST
        assert variables_of(template) <= set(ids) | {"tower"}
    for template in files.values():
        assert variables_of(template) <= set(ids)


def test_wotrus_ca_bundle_is_a_file_and_optional():
    """The CA bundle reaches WOTRUS_CA_PATH as the name of a file AWX writes; without a bundle the
    name is empty, which every reader takes as unset (the system's CAs), not as an empty file."""
    spec = load("wotrus")
    assert "ca_bundle" not in spec["inputs"]["required"]
    assert spec["injectors"]["file"] == {"template.ca_bundle": "{{ ca_bundle }}"}
    tmpl = ImmutableSandboxedEnvironment().from_string(spec["injectors"]["env"]["WOTRUS_CA_PATH"])

    class Filename:
        ca_bundle = "/runner/env/tmpabc"

    class Tower:
        filename = Filename()

    assert tmpl.render(tower=Tower(), ca_bundle="-----BEGIN CERTIFICATE-----") == "/runner/env/tmpabc"
    assert tmpl.render(tower=Tower()) == ""
    assert engine.connection_settings(environ={"WOTRUS_CA_PATH": ""})["ca_path"] is None

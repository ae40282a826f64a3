# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a custom credential type's injectors the way AWX does before it
starts a job (awx/main/models/credential/__init__.py,
``CredentialType.inject_credential``), so that the tests run jobs with the
environment, extra vars and files an AWX job would get -- not with
hand-written environment variables. Our own code, written from a reading of
AWX's:

* The template namespace holds each input the credential has with a
  non-empty value (booleans always; a boolean field not given is False).
  A "safe" namespace shows secret inputs as ``**********``: that is what AWX
  stores as the job's environment (``job_env``) and shows in the UI.
* ``file`` injectors: each template is rendered (Jinja, sandboxed; like
  every Jinja render, the template's last newline is dropped) and
  written to a new file (``mkstemp``) under ``PRIVATE_DATA_DIR/env``, mode
  0600. Its name is ``{{ tower.filename }}`` (label ``template``) or
  ``{{ tower.filename.NAME }}`` (label ``template.NAME``).
* ``env`` injectors: rendered into the job's environment; names that start
  with ``ANSIBLE_`` or are on AWX's block list are dropped (AWX logs and
  ignores them).
* ``extra_vars`` injectors: rendered, written as YAML with every string (keys
  too) tagged ``!unsafe`` (AWX's ``safe_dump``: a value is never templated again)
  to a file under ``env`` (mode 0400), passed as ``-e @FILE``.

AWX runs the job in a container where the private data dir is ``/runner``;
here the job runs without one (ansible-runner's process mode), so file names
are the real paths.
"""

from __future__ import annotations

import os
import stat
import tempfile

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

HIDDEN = "**********"
# awx/main/constants.py ENV_BLOCKLIST (besides every ANSIBLE_* name).
ENV_BLOCKLIST = frozenset(["VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
                           "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN",
                           "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG",
                           "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"])


class _Namespace:
    """The ``tower`` object of the templates (attributes set as files are written)."""


class Injected:
    """What a credential gives a job: ``env`` (real values), ``safe_env`` (secrets hidden, what AWX
    stores and shows), ``cmdline`` (``-e @FILE`` arguments), ``files`` (paths written)."""

    def __init__(self):
        self.env = {}
        self.safe_env = {}
        self.cmdline = []
        self.files = []

    def merge(self, other):
        self.env.update(other.env)
        self.safe_env.update(other.safe_env)
        self.cmdline.extend(other.cmdline)
        self.files.extend(other.files)
        return self


class _UnsafeDumper(yaml.SafeDumper):
    pass


def _unsafe_str(dumper, value):
    return dumper.represent_scalar("!unsafe", value)


_UnsafeDumper.add_representer(str, _unsafe_str)


def secret_fields(credential_type):
    return [f["id"] for f in credential_type["inputs"].get("fields", []) if f.get("secret") is True]


def inject(credential_type, inputs, private_data_dir):
    """Render ``credential_type`` (a dict with ``inputs`` and ``injectors``) for a credential whose
    input values are ``inputs``; files go under ``private_data_dir/env``. Returns an Injected."""
    out = Injected()
    injectors = credential_type.get("injectors") or {}
    if not injectors:
        return out
    tower = _Namespace()
    namespace = {"tower": tower}
    safe_namespace = {"tower": tower}
    secrets = secret_fields(credential_type)
    for name, value in inputs.items():
        if isinstance(value, bool):
            namespace[name] = safe_namespace[name] = value
            continue
        if name in secrets:
            safe_namespace[name] = HIDDEN
        elif len(value):
            safe_namespace[name] = value
        if len(value):
            namespace[name] = value
    for field in credential_type["inputs"].get("fields", []):
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = safe_namespace[field["id"]] = False
        if field.get("format") == "ssh_private_key" and field["id"] in namespace \
                and not namespace[field["id"]].endswith("\n"):
            namespace[field["id"]] += "\n"

    jinja = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in (injectors.get("file") or {}).items():
        data = jinja.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as f:
            f.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        out.files.append(path)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = _Namespace()
            setattr(tower.filename, label.split(".")[1], path)

    for name, template in (injectors.get("env") or {}).items():
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKLIST:
            continue  # AWX logs "Ignoring prohibited env var" and goes on
        out.env[name] = jinja.from_string(template).render(**namespace)
        out.safe_env[name] = jinja.from_string(template).render(**safe_namespace)

    extra_vars = dict((name, jinja.from_string(template).render(**namespace))
                      for name, template in (injectors.get("extra_vars") or {}).items())
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as f:
            f.write(yaml.dump(extra_vars, Dumper=_UnsafeDumper, default_flow_style=False))
        os.chmod(path, stat.S_IRUSR)
        out.files.append(path)
        out.cmdline.extend(["-e", "@%s" % path])
    return out


def load_type(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)

#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run against a fresh WoTrus sandbox (make examples-test).

    python tests/examples/run.py                 # every module, in ORDER
    python tests/examples/run.py --keep          # keep the work directory
    python tests/examples/run.py --ansible-bin .tmp/oldest-core/bin   # with another ansible-core
                                                 # (its ansible-playbook, its python on localhost)

Each module's EXAMPLES block is taken from its source as written and becomes
one play on localhost; the plays run in ORDER in one playbook, so what one
example registers (``www_order``, ``www_status``, ...) is there for the next,
as a reader of the docs would chain them. Before a module's examples run, its
setup (tests/examples/setup/<module>.yml, when there is one) makes what the
examples take for granted (a CSR at the path they name, an order number known
to the Sectigo endpoint, ...); after them, tests/examples/setup/<module>.check.yml
asserts what a user would check.

What is rewritten in the examples, and only this:
- absolute paths under /etc, /var and /srv go under a throw-away root;
- the service URLs the examples name go to the sandbox (URLS below);
- the WoTrus connection comes from WOTRUS_API_URL / WOTRUS_API_TOKEN /
  WOTRUS_CA_PATH, the Sectigo one from SECTIGO_API_URL / _LOGIN_NAME / _LOGIN_PASSWORD (its CA bundle
  from module_defaults: it has no environment variable); the variables the
  examples use for secrets (wotrus_token, sectigo_login, ...) are set to the
  sandbox's;
- `nginx`, `haproxy` and `systemctl` are stubs on PATH that record their
  arguments (no server and no systemd here).

A run fails when a task fails, when Ansible warns about a reserved variable
name, or when a module in plugins/modules is missing from ORDER.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
MODULES = os.path.join(ROOT, "plugins", "modules")
SETUP = os.path.join(HERE, "setup")
BIN = os.path.dirname(sys.executable)

# The order a reader would follow: order, wait, fetch; then the role's modules.
ORDER = [
    "wotrus_order", "wotrus_order_info", "wotrus_certificate", "wotrus_notify", "wotrus_reissue", "wotrus_revoke",
    "certificate_preflight", "certificate_credentials", "certificate_status", "certificate_issue", "certificate_deploy", "certificate_report_read",
    "sectigo_order_status", "certificate_dcv_file", "sectigo_order_documents", "jintong_order_cancel",
]
PATHS = re.compile(r"""(?<=[\s"'\[])/(etc|var|srv)/""")
BAD_OUTPUT = re.compile(r"reserved name|\[DEPRECATION WARNING\]|could not be templated", re.I)


def examples(module):
    with open(os.path.join(MODULES, module + ".py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return node.value.value
    raise SystemExit("%s has no EXAMPLES" % module)


def rewrite(text, root, urls):
    text = PATHS.sub(lambda m: root + "/" + m.group(1) + "/", text)
    for real, local in urls.items():
        text = text.replace(real, local)
    return text


def load_tasks(path):
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or []


def main(argv):
    from wotrus_sandbox.testing import SandboxProcess

    ansible_bin = BIN
    if "--ansible-bin" in argv:
        ansible_bin = os.path.abspath(argv[argv.index("--ansible-bin") + 1])

    missing = sorted(set(n[:-3] for n in os.listdir(MODULES) if n.endswith(".py") and not n.startswith("_"))
                     - set(ORDER))
    if missing:
        sys.exit("modules with no place in tests/examples/run.py ORDER: %s" % ", ".join(missing))
    work = tempfile.mkdtemp(prefix="wotrus-examples-")
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(work, "bin"))
    for command in ("nginx", "haproxy", "systemctl"):
        stub = os.path.join(work, "bin", command)
        with open(stub, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> "%s/%s.calls"\n' % (work, command))
        os.chmod(stub, 0o755)
    started = time.time()
    try:
        with SandboxProcess(http_port=True) as sb:
            urls = {
                "https://restapi.wosign.com": sb.api_url,
                "http://api.example.com": sb.http_url + "/jintong",
            }
            plays = []
            for module in ORDER:
                tasks = yaml.safe_load(rewrite(examples(module), root, urls))
                setup = load_tasks(os.path.join(SETUP, module + ".yml"))
                check = load_tasks(os.path.join(SETUP, module + ".check.yml"))
                plays.append({"name": "EXAMPLES of %s" % module, "hosts": "localhost", "connection": "local",
                              "gather_facts": False, "tasks": setup + tasks + check,
                              # Sectigo's CA bundle has no environment variable.
                              "module_defaults": {"group/wotrus.pki.sectigo": {"ca_path": sb.roots}}})
            playbook = os.path.join(work, "examples.yml")
            with open(playbook, "w", encoding="utf-8") as f:
                yaml.safe_dump(plays, f, allow_unicode=True, sort_keys=False)
            extra = dict(
                examples_root=root, examples_work=work, sandbox_api_url=sb.api_url, sandbox_http_url=sb.http_url,
                sandbox_ca_path=sb.roots, sandbox_sm2_roots=sb.sm2_roots, sandbox_mgmt_url=sb.mgmt_url,
                ansible_python_interpreter=os.path.join(ansible_bin, "python"),
                # the names the examples use for secrets
                wotrus_token=sb.token, wotrus_api_token=sb.token, vault_keystore_password="examples-keystore",
                sectigo_login="sandbox", sectigo_password="sandbox-password",
                jintong_partner="sandbox-partner", jintong_key="sandbox-key",
            )
            vars_file = os.path.join(work, "extra-vars.json")
            with open(vars_file, "w") as f:
                json.dump(extra, f)
            env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                       ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                       ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                       ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true",
                       WOTRUS_API_URL=sb.api_url, WOTRUS_API_TOKEN=sb.token, WOTRUS_CA_PATH=sb.roots,
                       SECTIGO_API_URL=sb.api_url + "/sectigo/products/!getPostPaymentStatus",
                       PATH=os.path.join(work, "bin") + os.pathsep + ansible_bin + os.pathsep + os.environ.get("PATH", ""))
            env.update(SECTIGO_LOGIN_NAME="sandbox", SECTIGO_LOGIN_PASSWORD="sandbox-password")
            proc = subprocess.run([os.path.join(ansible_bin, "ansible-playbook"), "-i", "localhost,", playbook,
                                   "-e", "@" + vars_file], cwd=work, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            print(proc.stdout)
            bad = sorted(set(m.group(0) for m in BAD_OUTPUT.finditer(proc.stdout)))
            if proc.returncode != 0 or bad:
                print("examples-test: FAILED (rc=%d%s); work directory %s"
                      % (proc.returncode, ", output has: " + ", ".join(bad) if bad else "", work))
                return 1
            version = subprocess.run([os.path.join(ansible_bin, "python"), "-c",
                                      "import ansible; print(ansible.__version__)"],
                                     stdout=subprocess.PIPE, text=True).stdout.strip()
            print("examples-test: the EXAMPLES of %d modules ran against the sandbox with ansible-core %s (%.1fs)"
                  % (len(ORDER), version, time.time() - started))
            return 0
    finally:
        if "--keep" not in argv and "proc" in locals() and proc.returncode == 0:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

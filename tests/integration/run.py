#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the integration targets against a fresh WoTrus sandbox.

    python tests/integration/run.py                 # every target
    python tests/integration/run.py wotrus_order    # the ones named

Each target (tests/integration/targets/<name>/tasks/main.yml) runs as a role
in a play on localhost with these extra vars: wotrus_api_url,
wotrus_api_token, wotrus_ca_path, wotrus_sm2_roots, wotrus_mgmt_url, wotrus_output_dir (and
sandbox_api_url, sandbox_http_url, sandbox_ca_path, sandbox_mgmt_url,
sandbox_token for the Sectigo and Jintong targets).
The sandbox is reset (POST /reset) before each target. Prints
"N passed, N failed" and exits non-zero when a target fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TARGETS = os.path.join(HERE, "targets")
BIN = os.path.dirname(sys.executable)


def targets(names):
    found = sorted(d for d in os.listdir(TARGETS)
                   if os.path.isfile(os.path.join(TARGETS, d, "tasks", "main.yml")))
    if not names:
        return found
    unknown = [n for n in names if n not in found]
    if unknown:
        sys.exit("unknown target(s): %s (have: %s)" % (", ".join(unknown), ", ".join(found)))
    return names


def main(argv):
    from wotrus_sandbox.testing import SandboxProcess

    names = targets(argv)
    passed, failed = [], []
    work = tempfile.mkdtemp(prefix="wotrus-it-")
    with SandboxProcess(http_port=True) as sb:
        for name in names:
            sb.mgmt_post("/reset")
            out = os.path.join(work, name)
            os.makedirs(out, exist_ok=True)
            extra = dict(wotrus_api_url=sb.api_url, wotrus_api_token=sb.token, wotrus_ca_path=sb.roots,
                         wotrus_sm2_roots=sb.sm2_roots,
                         wotrus_mgmt_url=sb.mgmt_url, wotrus_output_dir=out,
                         ansible_python_interpreter=sys.executable,
                         # the names the Sectigo / Jintong targets use
                         sandbox_api_url=sb.api_url, sandbox_http_url=sb.http_url, sandbox_ca_path=sb.roots,
                         sandbox_mgmt_url=sb.mgmt_url, sandbox_token=sb.token)
            vars_file = os.path.join(out, "extra-vars.json")
            with open(vars_file, "w") as f:
                json.dump(extra, f)
            play = os.path.join(out, "play.yml")
            with open(play, "w") as f:
                f.write("- name: Integration target %s\n  hosts: localhost\n  connection: local\n"
                        "  gather_facts: false\n  roles:\n    - %s\n" % (name, name))
            env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                       ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                       ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                       PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
            env.pop("WOTRUS_API_TOKEN", None)
            env.pop("WOTRUS_API_URL", None)
            started = time.time()
            cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", play, "-e", "@" + vars_file]
            rc = subprocess.call(cmd, cwd=ROOT, env=env)
            (passed if rc == 0 else failed).append(name)
            print("== %s: %s (%.1fs)" % (name, "passed" if rc == 0 else "FAILED", time.time() - started), flush=True)
    print("%d passed, %d failed%s" % (len(passed), len(failed), (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

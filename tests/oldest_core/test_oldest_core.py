"""What is declared is what is tested: the oldest ansible-core of requires_ansible.

make oldest-core-test runs this with .tmp/oldest-core (tests/oldest_core/requirements.txt:
ansible-core 2.16 and the community.crypto of the ansible 9 package) besides the newest
that every other suite uses:

- every module's EXAMPLES against the sandbox (tests/examples/run.py --ansible-bin);
- the role (playbooks/site.yml) over SSH on a test host whose interpreter is the oldest
  host Python supported (3.8, with cryptography 3.4.8): issued, served, verified, and a
  second run changes nothing and calls no API;
- a host with Python 3.6 (which ansible-core 2.16 still manages) is refused with a message
  naming the Python it needs, before any key, CSR or order -- not a SyntaxError.

Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT, as the role tests.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "role"))

import conftest as role  # noqa: E402  pylint: disable=wrong-import-position
from conftest import role_env  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from test_role_python import certificate, serve  # noqa: E402  pylint: disable=wrong-import-position

OLDEST_BIN = pathlib.Path(os.environ.get("OLDEST_CORE_BIN", str(REPO / ".tmp" / "oldest-core" / "bin")))
OLDEST_HOST_PYTHON = "py38-crypto348"


def oldest_core_version():
    out = subprocess.run([str(OLDEST_BIN / "python"), "-c", "import ansible; print(ansible.__version__)"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    return tuple(int(n) for n in out.split(".")[:2])


def test_declared_versions_are_the_tested_ones():
    declared = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
    minimum = tuple(int(n) for n in re.match(r">=\s*(\d+)\.(\d+)", declared).groups())
    assert oldest_core_version() == minimum, "requires_ansible %s, tested with %s" % (declared, oldest_core_version())
    role_meta = yaml.safe_load((REPO / "roles" / "certificate" / "meta" / "main.yml").read_text())
    assert str(role_meta["galaxy_info"]["min_ansible_version"]) == "%d.%d" % minimum
    # The collection depends on no other collection (community.crypto is only a test tool here).
    assert not yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]


def test_examples_with_the_oldest_core():
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "examples" / "run.py"), "--ansible-bin", str(OLDEST_BIN)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-8000:]
    assert "with ansible-core 2.16" in proc.stdout


def play(env, host, python, item, check=False):
    cmd = [str(OLDEST_BIN / "ansible-playbook"), "-i", str(env.inventory), str(REPO / "playbooks" / "site.yml"),
           "-e", json.dumps({"certificate_list": [item], "ansible_python_interpreter": python}),
           "--limit", host["name"], "-v"] + (["--check"] if check else [])
    run_env = dict(env.env(), PATH=str(OLDEST_BIN) + os.pathsep + os.environ["PATH"],
                   ANSIBLE_CALLBACK_RESULT_FORMAT="json",
                   ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"))
    proc = subprocess.run(cmd, cwd=str(REPO), env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    with open(env.work / "plays.log", "a") as f:
        f.write("\n\n===== oldest core %s (rc %d)\n%s" % (python, proc.returncode, proc.stdout))
    return proc


def test_role_with_the_oldest_core_and_the_oldest_host_python(role_env):  # noqa: F811
    env = role_env
    python = role.make_host_python(OLDEST_HOST_PYTHON)
    host = env.hosts[0]
    item = certificate("oldest-core", host)
    serve(env, host, item)
    before = env.counts()
    proc = play(env, host, python, item)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert oldest_core_version() == (2, 16)
    # The host modules ran with that interpreter (a venv of Python 3.8 with cryptography 3.4.8).
    assert set(re.findall(r'"cryptography": "([^"]*)"', proc.stdout)) == {"3.4.8"}, proc.stdout[-4000:]
    assert subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], stdout=subprocess.PIPE,
                          text=True).stdout.strip() == "(3, 8)"
    assert env.counts()["total"] > before["total"]
    served = env.served(host, item["common_name"])
    record = json.loads(env.host_file(host, item["cert_path"] + ".wotrus.json").read_text())
    assert record["deployed_serial"] == role.openssl_serial(served)
    out = subprocess.run(["openssl", "verify", "-CAfile", env.sandbox.roots, "-untrusted",
                          str(env.host_file(host, item["chain_path"])), str(env.host_file(host, item["cert_path"]))],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert out.returncode == 0, out.stdout
    before, mark = env.counts(), env.api_mark()
    proc = play(env, host, python, item)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert env.recap(proc.stdout)[host["name"]]["changed"] == 0, proc.stdout[-4000:]
    # Nothing due: the play's one credential read, no order call.
    env.assert_only_the_credential_read(before, mark)


def test_a_python_36_host_is_refused_by_name(role_env):  # noqa: F811
    env = role_env
    python = role.find_python("python3.6")
    if python is None:
        pytest.skip("no python3.6 on this machine")
    host = env.hosts[1]
    item = certificate("py36", host)
    before, mark = env.counts(), env.api_mark()
    proc = play(env, host, python, item)
    assert proc.returncode != 0
    failed = [line for line in proc.stdout.splitlines() if line.startswith("failed: [%s]" % host["name"])]
    assert failed, proc.stdout[-4000:]
    assert "need Python 3.8 or newer" in failed[0], failed[0]
    assert "Read the deployed certificates" in proc.stdout.split(failed[0])[0].rsplit("TASK [", 1)[1]
    assert "SyntaxError" not in proc.stdout
    # The play's credential check (on the controller, before the status task) is the one call: no order.
    env.assert_only_the_credential_read(before, mark)
    assert not os.path.exists(str(env.host_file(host, item["key_path"] + ".pending")))

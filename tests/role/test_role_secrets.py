"""No secret in a -vvvv run of the role: neither the API token (given as an
extra variable or in the controller's environment) nor private key material.

It uses its own sandbox, started with a sentinel token, so a hit can only come
from the role leaking what it was given; and it asserts that the runs really
used the token (orders were created), so the test cannot pass by not calling
the API.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess

import pytest

from conftest import SandboxProcess, own_inventory

SECRET_CERT = """\
certificate_list:
  - name: secret
    common_name: "{{{{ test_host_server_name }}}}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/secret-{tag}.crt
    key_path: /etc/ssl/test-host/secret-{tag}.key
    fullchain_path: /etc/ssl/test-host/secret-{tag}.fullchain.pem
    chain_path: /etc/ssl/test-host/secret-{tag}.chain.pem
"""


@pytest.fixture()
def sentinel_sandbox(role_env):
    token = "tk_SENTINEL_%s" % secrets.token_hex(12)
    sb = SandboxProcess(state_dir=str(role_env.work / "sentinel-sandbox"), token=token)
    sb.start()
    try:
        yield sb
    finally:
        sb.cleanup()
        shutil.rmtree(role_env.work / "sentinel-sandbox", ignore_errors=True)


@pytest.mark.parametrize("how", ["extra_var", "env"])
def test_vvvv_run_shows_no_token_and_no_key(role_env, sentinel_sandbox, how):
    env, sb = role_env, sentinel_sandbox
    inv = own_inventory(env, "inventory-secret-" + how, SECRET_CERT.format(tag=how), sandbox=sb)

    cmd = env.command("site.yml")
    cmd[cmd.index("-i") + 1] = str(inv / "hosts.ini")
    if how == "extra_var":
        # From a vars file, as AWX passes extra variables: ansible-playbook -vvvv
        # itself prints the values of -e given inline on the command line.
        vars_file = inv / "secret-vars.json"
        vars_file.write_text(json.dumps({"certificate_api_token": sb.token}))
        vars_file.chmod(0o600)
        cmd += ["-e", "@" + str(vars_file)]
    run_env = env.env()
    run_env["WOTRUS_API_TOKEN"] = sb.token if how == "env" else "wrong-token-from-env"
    proc = subprocess.run(cmd + ["-vvvv"], cwd=str(env.work), env=run_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    (env.work / ("vvvv-%s.log" % how)).write_text(proc.stdout)

    assert proc.returncode == 0, proc.stdout[-4000:]
    # The token was used: every host got an order from this sandbox.
    assert sb.mgmt_get("/counts")["POST /v1/Order/Create"] >= len(env.hosts)
    assert len(sb.mgmt_get("/orders")) == len(env.hosts)
    assert proc.stdout.count(sb.token) == 0, "the API token shows in the -vvvv output (%s)" % how
    for marker in ("PRIVATE KEY", "BEGIN EC PRIVATE", "BEGIN RSA PRIVATE"):
        assert marker not in proc.stdout, "private key material (%s) in the -vvvv output" % marker
    # Nor in the order records written on the hosts.
    for h in env.hosts:
        record = env.host_file(h, "/etc/ssl/test-host/secret-%s.crt.wotrus.json" % how).read_text()
        assert sb.token not in record and "PRIVATE" not in record
        json.loads(record)

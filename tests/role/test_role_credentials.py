"""Wrong or missing credentials fail the play once, before any host changes: the role's one
read call (certificate_credentials, run_once) runs before the status task -- which makes the
directories, keys and CSRs of what is due in the same host run -- and meets HTTP 401; so the
status task never runs, no directory, key or CSR is made on any host, no Create reaches the
sandbox; in check mode too; the token never shows at -vvvv. A missing token fails naming
certificate_api_token before any call. (A re-run with nothing due makes that one read and no
order call: test_role.py, test_role_calls.py.)
"""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from conftest import CREDENTIAL_READ, own_inventory

PROBE = "GET /v1/Order/{id}"
CRED_CERT = """\
# Every file under /etc/ssl/test-host: the default certificate_dir must stay absent (test_role_dirs).
certificate_dir: /etc/ssl/test-host
certificate_list:
  - name: cred
    common_name: "{{{{ test_host_server_name }}}}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/cred-{tag}.crt
    key_path: /etc/ssl/cred-{tag}/cred.key
"""
STATUS_TASK = "TASK [wotrus.pki.certificate : Read the deployed certificates"


def inventory(env, tag):
    return own_inventory(env, "inventory-cred-" + tag, CRED_CERT.format(tag=tag))


def run(env, inv, token, check, environ_token=None):
    cmd = env.command("site.yml")
    cmd[cmd.index("-i") + 1] = str(inv / "hosts.ini")
    vars_file = inv / "token.json"
    vars_file.write_text(json.dumps({"certificate_api_token": token}))
    vars_file.chmod(0o600)
    cmd += ["-e", "@" + str(vars_file), "-vvvv"] + (["--check"] if check else [])
    run_env = env.env()
    if environ_token is None:
        run_env.pop("WOTRUS_API_TOKEN", None)
    else:
        run_env["WOTRUS_API_TOKEN"] = environ_token
    return subprocess.run(cmd, cwd=str(env.work), env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)


def cred_files(env):
    """What the role would have made for the certificate on any host: the key's directory (which the
    hosts do not have), the certificate's store (.wotrus/cred: staged key and CSR) and its files."""
    found = []
    for h in env.hosts:
        etc_ssl = env.host_file(h, "/etc/ssl/x").parent
        found += [str(p) for p in etc_ssl.glob("cred-*")]
        found += [str(p) for p in (etc_ssl / "test-host").glob("cred-*")]
        found += [str(p) for p in (etc_ssl / "test-host" / ".wotrus").glob("cred*")]
    return found


@pytest.mark.parametrize("check", [True, False], ids=["check_mode", "run"])
def test_wrong_token_fails_the_play_once_before_any_key(role_env, check):
    env = role_env
    assert len(env.hosts) >= 2
    tag = "check" if check else "run"
    inv = inventory(env, tag)
    sentinel = "tk_SENTINEL_wrong_%s" % secrets.token_hex(8)
    before, mark = env.counts(), env.api_mark()
    proc = run(env, inv, sentinel, check)
    (env.work / ("cred-%s.log" % tag)).write_text(proc.stdout)
    after = env.counts()
    assert proc.returncode != 0, proc.stdout[-3000:]
    # One read call for the whole play, refused; nothing else reached the API.
    assert after["total"] - before["total"] == 1, (before, after)
    assert after.get(PROBE, 0) - before.get(PROBE, 0) == 1
    assert env.api_requests(mark) == [CREDENTIAL_READ], env.api_requests(mark)
    assert after.get("POST /v1/Order/Create", 0) == before.get("POST /v1/Order/Create", 0)
    # The check failed once (run_once), with a message naming the variable.
    assert proc.stdout.count("certificate_api_token was refused by the WoTrus API") >= 1
    assert len([line for line in proc.stdout.splitlines()
                if line.startswith("fatal:") and "Prove the API token" in line]) <= 1
    task_out = proc.stdout.split("TASK [wotrus.pki.certificate : Prove the API token")[1].split("TASK [")[0]
    assert task_out.count("fatal: [") == 1, task_out
    # The status task (which would make the directory, key and CSR) never ran; nothing on any host.
    assert STATUS_TASK not in proc.stdout, proc.stdout[-3000:]
    assert cred_files(env) == []
    # The token never shows.
    assert sentinel not in proc.stdout


def test_missing_token_fails_naming_the_variable(role_env):
    env = role_env
    inv = inventory(env, "missing")
    before = env.counts()
    proc = run(env, inv, "", False)
    assert proc.returncode != 0
    assert "certificate_api_token" in proc.stdout and "is empty" in proc.stdout
    assert env.counts()["total"] == before["total"]
    assert STATUS_TASK not in proc.stdout, proc.stdout[-3000:]
    assert cred_files(env) == []


def test_right_token_goes_on_to_the_status_task(role_env):
    """The same certificate with the right token: the check passes and the status task makes the
    directory and key -- what the tests above prove absent can be made."""
    env = role_env
    inv = inventory(env, "right")
    mark = env.api_mark()
    proc = run(env, inv, env.sandbox.token, False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert env.api_requests(mark)[0] == CREDENTIAL_READ, env.api_requests(mark)
    assert STATUS_TASK in proc.stdout
    for h in env.hosts:
        assert env.host_file(h, "/etc/ssl/cred-right/cred.key").is_file()
    assert env.sandbox.token not in proc.stdout

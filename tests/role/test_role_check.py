"""Check mode on hosts with certificates that are due and have no key or CSR yet (one in an existing
directory, one in a directory the host does not have): certificate_status makes no key or CSR and returns
csr: null in check mode, so certificate_issue predicts from the status alone. The run succeeds and reports the
change, makes nothing on the hosts and sends nothing to the API."""

from __future__ import annotations

import subprocess

from conftest import own_inventory

NEW_CERTS = """\
certificate_list:
  - name: checkonly
    common_name: "{{ test_host_server_name }}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/checkonly.crt
    key_path: /etc/ssl/test-host/checkonly.key
    chain_path: /etc/ssl/test-host/checkonly.chain.pem
    fullchain_path: /etc/ssl/test-host/checkonly.fullchain.pem
  - name: checkdir
    common_name: "{{ test_host_server_name }}"
    cert_path: /etc/ssl/check-mode/checkdir.crt
    key_path: /etc/ssl/check-mode/checkdir.key
    chain_path: /etc/ssl/check-mode/checkdir.chain.pem
    fullchain_path: /etc/ssl/check-mode/checkdir.fullchain.pem
"""


def test_check_mode_with_a_new_certificate_predicts_the_order(role_env):
    env = role_env
    inv = own_inventory(env, "inventory-check-mode", NEW_CERTS)
    cmd = env.command("site.yml") + ["--check", "--diff"]
    cmd[cmd.index("-i") + 1] = str(inv / "hosts.ini")

    before = env.counts()
    proc = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    recap = env.recap(proc.stdout)
    assert set(recap) == set(h["name"] for h in env.hosts), proc.stdout[-3000:]
    assert all(r["failed"] == 0 and r["changed"] > 0 for r in recap.values()), proc.stdout[-3000:]
    # Nothing on the hosts, not even the directory; nothing sent to the API but the one credential
    # check of the play (a read: certificate_credentials, run_once).
    for h in env.hosts:
        assert not env.host_file(h, "/etc/ssl/check-mode").exists()
        made = [p.name for p in env.host_file(h, "/etc/ssl/test-host").iterdir() if p.name.startswith("checkonly")]
        assert made == [], made
    after = env.counts()
    assert not [k for k in after if k.startswith("POST ") and after[k] != before.get(k, 0)], after
    assert after["total"] - before["total"] == 1, (before, after)
    assert after["GET /v1/Order/{id}"] - before["GET /v1/Order/{id}"] == 1, (before, after)

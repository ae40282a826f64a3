"""A certificate whose key goes to an existing directory and whose other files
go to the default certificate_dir (/etc/ssl/wotrus, which the hosts do not
have): the role makes the directory before it makes a key or orders, so it
never buys a certificate it then cannot deploy; a re-run has nothing to do (no order call: the
play's one credential read)."""

from __future__ import annotations

import stat
import subprocess

from conftest import own_inventory

DEFAULT_PATHS_CERT = """\
certificate_list:
  - name: plain
    common_name: "{{ test_host_server_name }}"
    key_type: ecdsa
    key_size: 256
    key_path: /etc/ssl/test-host/plain.key
"""


def test_default_directory_is_made_before_the_order(role_env):
    env = role_env
    for h in env.hosts:
        assert not env.host_file(h, "/etc/ssl/wotrus").exists()
    inv = own_inventory(env, "inventory-default-dir", DEFAULT_PATHS_CERT)
    cmd = env.command("site.yml")
    cmd[cmd.index("-i") + 1] = str(inv / "hosts.ini")

    creates = env.counts()["POST /v1/Order/Create"]
    proc = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert env.counts()["POST /v1/Order/Create"] == creates + len(env.hosts)
    for h in env.hosts:
        d = env.host_file(h, "/etc/ssl/wotrus")
        assert d.is_dir() and stat.S_IMODE(d.stat().st_mode) == 0o755
        for name in ("plain.crt", "plain.chain.pem", "plain.fullchain.pem", "plain.crt.wotrus.json"):
            assert (d / name).is_file(), name
        assert stat.S_IMODE(env.host_file(h, "/etc/ssl/test-host/plain.key").stat().st_mode) == 0o600

    before, mark = env.counts(), env.api_mark()
    again = subprocess.run(cmd, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(r["changed"] == 0 for r in env.recap(again.stdout).values()), again.stdout[-3000:]
    env.assert_only_the_credential_read(before, mark)

#!/usr/bin/env python3
"""make demo: start the sandbox and three SSH test hosts, run playbooks/site.yml,
print where each certificate is and that it verifies (TLS handshake with SNI
against the sandbox root), then stop everything.

    .venv/bin/python tools/demo.py [--state-dir .tmp/demo] [--keep]

It reuses the role tests' set-up (tests/role/conftest.py): the same inventory,
group variables and TLS checks the tests assert on.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "role"))
import conftest as T  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", default=str(T.REPO / ".tmp" / "demo"))
    ap.add_argument("--keep", action="store_true", help="leave sandbox and hosts running")
    a = ap.parse_args()
    work = pathlib.Path(a.state_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sb = T.SandboxProcess(state_dir=str(work / "sandbox"))
    sb.start()
    hosts_dir = work / "hosts"
    try:
        up = subprocess.run([str(T.HOSTS_SH), "up", str(T.N_HOSTS), "--dir", str(hosts_dir), "--ssh-port", T.SSH_PORT,
                             "--https-port", str(T.HTTPS_PORT), "--http-port", T.HTTP_PORT],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if up.returncode != 0:
            sys.exit("hosts.sh up failed:\n" + up.stdout)
        info = json.loads((hosts_dir / "hosts.json").read_text())
        inv = work / "inventory"
        (inv / "group_vars").mkdir(parents=True)
        shutil.copy(hosts_dir / "inventory.ini", inv / "hosts.ini")
        with open(inv / "hosts.ini", "a") as f:
            f.write("\n[wotrus_certificate_hosts:children]\ntest_hosts\n")
        (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
            T.GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=T.PRODUCT))
        env = T.Env(work, sb, hosts_dir, inv / "hosts.ini", info["hosts"])
        print("sandbox %s, hosts %s" % (sb.api_url, ", ".join("%s=%s" % (h["name"], h["address"]) for h in env.hosts)))
        proc = subprocess.run(env.command("site.yml"), cwd=str(T.REPO), env=env.env())
        if proc.returncode != 0:
            sys.exit("playbooks/site.yml failed (rc %d)" % proc.returncode)
        print("\nWhere the certificates are (inside each host) and what is served:")
        for h in env.hosts:
            rec = env.record(h)
            cert = env.served(h)  # raises unless it verifies against the sandbox root for the name
            print("  %s (%s): /etc/ssl/test-host/site.crt, chain site.chain.pem, full chain placeholder.crt, "
                  "key placeholder.key (0600), record site.crt.wotrus.json" % (h["name"], h["server_name"]))
            print("    order %s, serial %X, valid until %s; TLS on %s:%d with SNI %s verifies against %s: OK"
                  % (rec["deployed_order_id"], cert.serial_number, rec["deployed_not_after"], h["address"],
                     T.HTTPS_PORT, h["server_name"], sb.roots))
            print("    on this machine (kept after the demo): %s"
                  % env.host_file(h, "/etc/ssl/test-host/site.crt").parent)
        print("\nAPI calls: %s" % sb.mgmt_get("/counts")["total"])
    finally:
        if not a.keep:
            subprocess.run([str(T.HOSTS_SH), "down", "--dir", str(hosts_dir)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
            sb.cleanup()
        else:
            print("kept: %s (stop: tests/hosts/hosts.sh down --dir %s; kill %s)" % (work, hosts_dir, sb.pid))


if __name__ == "__main__":
    main()

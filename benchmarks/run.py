#!/usr/bin/env python3
"""Benchmark: the certificate role against a hand-written uri + community.crypto
peer playbook (benchmarks/peer/peer.yml), on N SSH test hosts, against the
sandbox with instant issuance. Prints wall times, ratios and API calls per
certificate. Figures, not pass/fail.

    .venv/bin/python benchmarks/run.py                 # N = 10 and 50
    .venv/bin/python benchmarks/run.py --hosts 10 --forks 10

Per N: ping pass, peer, role, peer re-run, role re-run. The peer and the role
write different files on the same hosts. When hosts.sh cannot bring up N
hosts, N inventory aliases over fewer hosts are used (said in the output).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sandbox"))
from wotrus_sandbox.testing import SandboxProcess  # noqa: E402

HOSTS_SH = REPO / "tests" / "hosts" / "hosts.sh"
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"

GROUP_VARS = """\
certificate_api_url: {api_url}
certificate_ca_path: {roots}
certificate_product_id: {product}
certificate_poll_interval: 1
certificate_organization:
  org_name: wotrus.pki benchmark
certificate_list:
  - name: bench
    common_name: "{{{{ test_host_server_name }}}}"
    cert_path: "/etc/ssl/test-host/bench-{{{{ inventory_hostname }}}}.crt"
    key_path: "/etc/ssl/test-host/bench-{{{{ inventory_hostname }}}}.key"
    chain_path: "/etc/ssl/test-host/bench-{{{{ inventory_hostname }}}}.chain.pem"
    fullchain_path: "/etc/ssl/test-host/bench-{{{{ inventory_hostname }}}}.fullchain.pem"
    services:
      - name: nginx
        test: [nginx, -t]
        reload: [nginx, -s, reload]
peer_api_url: {api_url}
peer_ca_path: {roots}
peer_api_token: {token}
peer_product_id: {product}
"""


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def hosts_up(n, state, ports):
    cmd = [str(HOSTS_SH), "up", str(n), "--dir", str(state), "--ssh-port", ports[0], "--https-port", ports[1],
           "--http-port", ports[2], "--timeout", "120"]
    return sh(cmd, timeout=1200)


def write_inventory(work, state, n_wanted, sb):
    info = json.loads((state / "hosts.json").read_text())
    inv_text = (state / "inventory.ini").read_text()
    real = len(info["hosts"])
    if real < n_wanted:
        # Aliases: host lines repeated with other names, same address.
        lines = [l for l in inv_text.splitlines() if l.startswith("host") and " ansible_host=" in l]
        extra = []
        for k in range(n_wanted - real):
            src = lines[k % real]
            name, rest = src.split(" ", 1)
            extra.append("%s-alias%d %s" % (name, k // real + 1, rest))
        inv_text = inv_text.replace("[test_hosts:vars]", "\n".join(extra) + "\n\n[test_hosts:vars]")
    inv = work / "inventory"
    (inv / "group_vars").mkdir(parents=True, exist_ok=True)
    (inv / "hosts.ini").write_text(inv_text + "\n[wotrus_certificate_hosts:children]\ntest_hosts\n")
    (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
        GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=PRODUCT, token=sb.token))
    return inv / "hosts.ini", real


def play(inv, playbook, forks, sb, log):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), WOTRUS_API_TOKEN=sb.token,
               PATH=str(REPO / ".venv" / "bin") + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1")
    before = sb.mgmt_get("/counts")["total"]
    t0 = time.monotonic()
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv), "-f", str(forks),
                           str(playbook)], cwd=str(REPO), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    calls = sb.mgmt_get("/counts")["total"] - before
    with open(log, "a") as f:
        f.write("\n===== %s (rc %d, %.1fs)\n%s" % (playbook, proc.returncode, wall, proc.stdout))
    recap = re.findall(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M)
    changed = sum(int(r[1]) for r in recap)
    failed = sum(int(r[2]) + int(r[3]) for r in recap)
    if proc.returncode != 0:
        print("  !! %s failed (rc %d); see %s" % (playbook.name, proc.returncode, log))
    return dict(wall=wall, calls=calls, changed=changed, failed=failed, rc=proc.returncode)


def bench(n, forks, ports, keep):
    work = REPO / ".tmp" / "bench" / ("n%d" % n)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    state = work / "hosts"
    log = work / "plays.log"
    sb = SandboxProcess(state_dir=str(work / "sandbox"))
    sb.start()
    real_n = n
    try:
        up = hosts_up(n, state, ports)
        if up.returncode != 0:
            real_n = 10
            print("  hosts.sh up %d failed (%s); using %d hosts with inventory aliases"
                  % (n, up.stdout.strip().splitlines()[-1:] or "?", real_n))
            up = hosts_up(real_n, state, ports)
            if up.returncode != 0:
                raise SystemExit("hosts.sh up %d failed:\n%s" % (real_n, up.stdout))
        inv, real_n = write_inventory(work, state, n, sb)
        rows = []
        for label, pb in (("ping", REPO / "benchmarks" / "ping.yml"),
                          ("peer", REPO / "benchmarks" / "peer" / "peer.yml"),
                          ("role", REPO / "playbooks" / "site.yml"),
                          ("peer re-run", REPO / "benchmarks" / "peer" / "peer.yml"),
                          ("role re-run", REPO / "playbooks" / "site.yml")):
            r = play(inv, pb, forks, sb, log)
            r["label"] = label
            rows.append(r)
            print("  %-12s %7.1fs  API calls %4d (%.1f per certificate)  changed %d  failed %d"
                  % (label, r["wall"], r["calls"], r["calls"] / float(n), r["changed"], r["failed"]))
        by = dict((r["label"], r) for r in rows)
        return dict(n=n, real_hosts=real_n, forks=forks, rows=rows,
                    fresh_ratio=by["role"]["wall"] / by["peer"]["wall"],
                    rerun_ratio=by["role re-run"]["wall"] / by["peer re-run"]["wall"])
    finally:
        sh([str(HOSTS_SH), "down", "--dir", str(state)], timeout=300)
        sb.cleanup()
        if not keep:
            shutil.rmtree(state, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--forks", type=int, default=0, help="ansible forks (default: N, at most 50)")
    ap.add_argument("--ports", default="2322,9443,9080", help="ssh,https,http ports of the test hosts")
    ap.add_argument("--keep", action="store_true", help="keep .tmp/bench/nN/hosts")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    ports = a.ports.split(",")
    results = []
    for n in a.hosts:
        forks = a.forks or min(n, 50)
        print("N=%d hosts, forks=%d, sandbox instant issuance" % (n, forks))
        res = bench(n, forks, ports, a.keep)
        results.append(res)
        print("  role/peer fresh %.2fx (target <= 0.5), re-run %.2fx (target <= 0.5)%s"
              % (res["fresh_ratio"], res["rerun_ratio"],
                 "" if res["real_hosts"] == n else " [%d real hosts, aliases]" % res["real_hosts"]))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

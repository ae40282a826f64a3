#!/usr/bin/env python3
"""Benchmark: the certificate role against a hand-written uri + community.crypto
peer playbook (benchmarks/peer/peer.yml), on N SSH test hosts, against the
sandbox with instant issuance. Prints wall times, ratios to a ping pass and to
the peer, API calls per certificate and the controller's peak memory. Figures,
not pass/fail.

    .venv/bin/python benchmarks/run.py                  # N = 10, 50, 100; forks 10
    .venv/bin/python benchmarks/run.py --hosts 10       # one size
    .venv/bin/python benchmarks/run.py --big 500        # also one 500-host role run

Per N: ping pass, peer fresh, role fresh, peer re-run, role re-run (each on a
fresh sandbox and fresh hosts). With --big M: ping, role fresh and role re-run
on M hosts, failures, memory, and the per-host cost against the largest N.

Peak RSS of the controller: "largest" is the largest single process of the
run (ansible-playbook or a worker; os.wait4's ru_maxrss), "tree" the largest
sum of the RSS of all processes of the run, sampled every 0.2 s.

When hosts.sh cannot bring up N hosts (it gives each host one loopback address
127.0.0.2..; it brings up at most 200 (its MAX_HOSTS), and namespaces may run out
earlier), fewer real hosts are brought up and the inventory repeats them under
alias names up to N (each alias orders and deploys its own certificate files and
store: the certificate's name and paths carry the inventory host name, in the role
and in the peer).
The output says so on every line concerned.
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
import threading
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
  # One name per inventory host: the name keys the certificate's store (.wotrus/<name>/ next to the key), so
  # aliases of one real host sharing a name would share one store and each run would order again.
  - name: "bench-{{{{ inventory_hostname }}}}"
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


def tree_rss(pgid):
    """The summed RSS (bytes) of the processes of process group ``pgid`` (Linux /proc)."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            with open("/proc/%s/statm" % entry) as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total


def play(inv, playbook, forks, sb, log):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), WOTRUS_API_TOKEN=sb.token,
               PATH=str(REPO / ".venv" / "bin") + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1")
    before = sb.mgmt_get("/counts")["total"]
    out_path = pathlib.Path(str(log) + ".part")
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv), "-f", str(forks),
                                 str(playbook)], cwd=str(REPO), env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        peak = dict(tree=0)
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak["tree"] = max(peak["tree"], tree_rss(proc.pid))
                done.wait(0.2)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4: the run's own rusage (ru_maxrss: its largest process, KiB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    wall = time.monotonic() - t0
    output = out_path.read_text()
    out_path.unlink()
    calls = sb.mgmt_get("/counts")["total"] - before
    with open(log, "a") as f:
        f.write("\n===== %s (rc %d, %.1fs)\n%s" % (playbook, proc.returncode, wall, output))
    recap = re.findall(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M)
    changed = sum(int(r[1]) for r in recap)
    failed = sum(int(r[2]) + int(r[3]) for r in recap)
    failed_hosts = sum(1 for r in recap if int(r[2]) + int(r[3]) > 0)
    if proc.returncode != 0:
        print("  !! %s failed (rc %d); see %s" % (playbook.name, proc.returncode, log))
    return dict(wall=wall, calls=calls, changed=changed, failed=failed, failed_hosts=failed_hosts, rc=proc.returncode,
                rss_largest_mib=usage.ru_maxrss / 1024.0, rss_tree_mib=peak["tree"] / 1048576.0)


# Host counts tried, largest first, when hosts.sh cannot bring up N (one loopback address per host).
FALLBACK_HOSTS = (200, 100, 50, 10)


def bring_up(n, state, ports):
    """Bring up N hosts, or the most hosts.sh manages from FALLBACK_HOSTS; returns the real count."""
    tries = [n] + [k for k in FALLBACK_HOSTS if k < n]
    for k in tries:
        if k > 200:  # tests/hosts/hosts.sh MAX_HOSTS (host i gets the address 127.0.0.(i+1))
            print("  hosts.sh brings up at most 200 hosts, not %d; trying fewer" % k)
            continue
        up = hosts_up(k, state, ports)
        if up.returncode == 0:
            return k
        print("  hosts.sh up %d failed (%s); trying fewer" % (k, (up.stdout.strip().splitlines() or ["?"])[-1]))
        sh([str(HOSTS_SH), "down", "--dir", str(state)], timeout=600)
    raise SystemExit("hosts.sh could not bring up any hosts")


PLAYS = dict(ping=REPO / "benchmarks" / "ping.yml", peer=REPO / "benchmarks" / "peer" / "peer.yml",
             role=REPO / "playbooks" / "site.yml")
FULL = (("ping", "ping"), ("peer", "peer"), ("role", "role"), ("peer re-run", "peer"), ("role re-run", "role"))
BIG = (("ping", "ping"), ("role", "role"), ("role re-run", "role"))


def bench(n, forks, ports, keep, plays=FULL):
    work = REPO / ".tmp" / "bench" / ("n%d" % n)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    state = work / "hosts"
    log = work / "plays.log"
    sb = SandboxProcess(state_dir=str(work / "sandbox"))
    sb.start()
    try:
        t0 = time.monotonic()
        up = bring_up(n, state, ports)
        inv, real_n = write_inventory(work, state, n, sb)
        aliases = "" if real_n == n else " [%d real hosts + %d aliases]" % (real_n, n - real_n)
        print("  %d hosts up in %.0fs%s" % (real_n, time.monotonic() - t0, aliases))
        assert up == real_n
        rows = []
        for label, play_name in plays:
            r = play(inv, PLAYS[play_name], forks, sb, log)
            r["label"] = label
            rows.append(r)
            print("  %-12s %7.1fs  API calls %5d (%.2f per certificate)  changed %4d  failed %d (hosts %d)  "
                  "peak RSS largest %.0f MiB, tree %.0f MiB%s"
                  % (label, r["wall"], r["calls"], r["calls"] / float(n), r["changed"], r["failed"],
                     r["failed_hosts"], r["rss_largest_mib"], r["rss_tree_mib"], aliases))
        return dict(n=n, real_hosts=real_n, forks=forks, rows=rows)
    finally:
        sh([str(HOSTS_SH), "down", "--dir", str(state)], timeout=600)
        sb.cleanup()
        if not keep:
            shutil.rmtree(state, ignore_errors=True)


def ratios(res):
    by = dict((r["label"], r) for r in res["rows"])
    out = {}
    ping = by["ping"]["wall"]
    for label in ("peer", "role", "peer re-run", "role re-run"):
        if label in by:
            out["%s/ping" % label] = by[label]["wall"] / ping
    if "peer" in by:
        out["role/peer fresh"] = by["role"]["wall"] / by["peer"]["wall"]
        out["role/peer re-run"] = by["role re-run"]["wall"] / by["peer re-run"]["wall"]
    out["role fresh per host"] = by["role"]["wall"] / res["n"]
    out["role re-run per host"] = by["role re-run"]["wall"] / res["n"]
    return out


def summary_line(res):
    r = ratios(res)
    aims = "" if res["n"] < 100 else "  (aim at 100 hosts: fresh <= 4x ping, re-run <= 1.3x ping)"
    text = "  N=%d: role fresh %.2fx ping, re-run %.2fx ping" % (res["n"], r["role/ping"], r["role re-run/ping"])
    if "role/peer fresh" in r:
        text += "; peer fresh %.2fx ping, re-run %.2fx ping; role/peer fresh %.2fx, re-run %.2fx" % (
            r["peer/ping"], r["peer re-run/ping"], r["role/peer fresh"], r["role/peer re-run"])
    return text + aims + ("" if res["real_hosts"] == res["n"] else " [%d real hosts, aliases]" % res["real_hosts"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, nargs="+", default=[10, 50, 100])
    ap.add_argument("--forks", type=int, default=10, help="ansible forks (default 10)")
    ap.add_argument("--big", type=int, default=0, metavar="M",
                    help="also one role run (fresh and re-run) on M hosts, e.g. 500")
    ap.add_argument("--ports", default=os.environ.get("BENCH_PORTS", "2322,9443,9080"),
                    help="ssh,https,http ports of the test hosts (default: $BENCH_PORTS, else 2322,9443,9080)")
    ap.add_argument("--keep", action="store_true", help="keep .tmp/bench/nN/hosts")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    ports = a.ports.split(",")
    results = []
    for n in a.hosts:
        print("N=%d hosts, forks=%d, sandbox instant issuance" % (n, a.forks))
        res = bench(n, a.forks, ports, a.keep)
        res["ratios"] = ratios(res)
        results.append(res)
        print(summary_line(res))
    if a.big:
        print("N=%d hosts (--big), forks=%d, role only" % (a.big, a.forks))
        res = bench(a.big, a.forks, ports, a.keep, plays=BIG)
        res["ratios"] = ratios(res)
        results.append(res)
        print(summary_line(res))
        ref = max((r for r in results[:-1] if r["n"] < a.big), key=lambda r: r["n"], default=None)
        if ref:
            for label in ("role fresh per host", "role re-run per host"):
                big, small = res["ratios"][label], ref["ratios"][label]
                print("  %s: %.3fs at %d hosts, %.3fs at %d (%+.0f%%; aim: flat, within 10%%)"
                      % (label, big, a.big, small, ref["n"], (big / small - 1) * 100))
    print("\nN     ping   peer  p.rerun   role  r.rerun  fresh/ping rerun/ping  role/peer  calls/cert  RSS MiB")
    for res in results:
        by = dict((r["label"], r) for r in res["rows"])
        rt = res["ratios"]
        print("%-4d %6.1f %6s %8s %6.1f %8.1f %10.2f %10.2f %10s %11s %8.0f%s" % (
            res["n"], by["ping"]["wall"], "%.1f" % by["peer"]["wall"] if "peer" in by else "-",
            "%.1f" % by["peer re-run"]["wall"] if "peer" in by else "-", by["role"]["wall"],
            by["role re-run"]["wall"], rt["role/ping"], rt["role re-run/ping"],
            "%.2f" % rt["role/peer fresh"] if "role/peer fresh" in rt else "-",
            "%.2f, %.2f" % (by["role"]["calls"] / float(res["n"]), by["role re-run"]["calls"] / float(res["n"])),
            max(r["rss_tree_mib"] for r in res["rows"] if r["label"].startswith("role")),
            "" if res["real_hosts"] == res["n"] else "  [%d real + aliases]" % res["real_hosts"]))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

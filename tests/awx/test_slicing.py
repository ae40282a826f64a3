# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sliced job template: AWX splits the inventory into K slices (host number
i goes to slice i mod K, in inventory order) and runs K jobs at once. Here K
concurrent ansible-runner jobs of playbooks/site.yml, each with its slice,
against one sandbox that answers 429 with Retry-After past a rate limit.
Every host gets its certificate, no host fails, no order is placed twice.

`make awx-test` runs a small gate (AWX_SLICES=4, AWX_HOSTS_PER_SLICE=3);
`make awx-slicing` the full run (4 x 12) and prints the figures for docs/awx.md.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import threading
import time

from conftest import HOSTS_PER_SLICE, PRODUCT, SLICES

# At most RATE_REQUESTS API calls in any RATE_PER seconds: well below what K jobs with 5 forks each ask.
RATE_REQUESTS = int(os.environ.get("AWX_RATE_REQUESTS", "8"))
RATE_PER = float(os.environ.get("AWX_RATE_PER", "1"))
GROUP_VARS = {
    "certificate_product_id": PRODUCT,
    "certificate_poll_interval": 1,
    "certificate_organization": {"org_name": "wotrus.pki AWX slicing", "country_code": "CN"},
    "certificate_list": [{
        "name": "slice", "common_name": "{{ test_host_server_name }}", "key_type": "ecdsa", "key_size": 256,
        "cert_path": "/etc/ssl/test-host/slice.crt", "chain_path": "/etc/ssl/test-host/slice.chain.pem",
        "key_path": "/etc/ssl/test-host/slice.key",
    }],
}


def slices_of(hosts, k):
    """AWX's job slicing: slice n (1..k) runs hosts[n - 1::k]."""
    return [hosts[n::k] for n in range(k)]


def test_sliced_jobs_against_a_rate_limited_sandbox(awx_world, sandbox_factory):
    sb = sandbox_factory(config={"rate_limit": {"requests": RATE_REQUESTS, "per": RATE_PER}})
    credential = ("wotrus", {"api_url": sb.api_url, "api_token": sb.token,
                             "ca_bundle": pathlib.Path(sb.roots).read_text()})
    hosts = awx_world.hosts[:SLICES * HOSTS_PER_SLICE]
    slices = slices_of(hosts, SLICES)
    assert sorted(h["name"] for s in slices for h in s) == sorted(h["name"] for h in hosts)
    jobs = [None] * SLICES

    def run(n):
        jobs[n] = awx_world.run(slices[n], GROUP_VARS, [credential])

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(SLICES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started

    counts = sb.mgmt_get("/counts")
    orders = sb.mgmt_get("/orders")
    per_key = sb.mgmt_get("/idempotence")
    failed = sorted(h for job in jobs for h in job.failed_hosts())
    by_name = {}
    for order in orders:
        by_name.setdefault(order["common_name"], []).append(order["id"])
    duplicates = sum(len(ids) - 1 for ids in by_name.values()) + sum(n - 1 for n in per_key.values())
    unverified = []
    for host in hosts:
        base = pathlib.Path(host["dir"]) / "etc-ssl" / "test-host"
        check = subprocess.run(["openssl", "verify", "-CAfile", sb.roots, "-untrusted", str(base / "slice.chain.pem"),
                                str(base / "slice.crt")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check.returncode != 0:
            unverified.append(host["name"])
    figures = {
        "slices": SLICES, "hosts_per_slice": HOSTS_PER_SLICE, "hosts": len(hosts),
        "rate_limit": "%d calls / %g s" % (RATE_REQUESTS, RATE_PER),
        "wall_seconds": round(wall, 1), "job_seconds": [round(j.seconds, 1) for j in jobs],
        "api_calls": counts.get("total", 0), "answered_429": counts.get("429 rate_limit", 0),
        "creates": counts.get("POST /v1/Order/Create", 0), "orders": len(orders),
        "failed_hosts": len(failed), "duplicate_orders": duplicates, "hosts_without_certificate": len(unverified),
        "job_status": [j.status for j in jobs],
    }
    print("\nAWX slicing figures: " + json.dumps(figures))
    out = os.environ.get("AWX_SLICING_FIGURES")
    if out:
        pathlib.Path(out).write_text(json.dumps(figures, indent=2) + "\n")

    assert [j.status for j in jobs] == ["successful"] * SLICES, "\n\n".join(j.stdout[-3000:] for j in jobs)
    assert failed == [] and unverified == []
    assert len(orders) == len(hosts) and duplicates == 0
    assert figures["answered_429"] > 0, "the rate limit was never reached: the run proves nothing about 429s"

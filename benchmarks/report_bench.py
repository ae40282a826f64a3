"""The certificate report at fleet size (make bench-report): 5,000 synthetic certificates over 500 hosts,
rendered by the collection's report code; the page's size, the time to render it on the controller, and
the time headless Chromium takes to load and lay it out (navigation start to the second animation frame
after the load event; median of 3). Figures, not pass/fail; docs/report.md quotes them."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))
sys.path.insert(0, str(REPO / "tests" / "report"))

from ansible_collections.wotrus.pki.plugins.module_utils import _report  # noqa: E402
from browser import Browser  # noqa: E402

N = int(os.environ.get("REPORT_BENCH_CERTS", "5000"))
PER_HOST = 10


def fleet(now):
    rnd = random.Random(11)
    hosts = {}
    for h in range(N // PER_HOST):
        host = "web%04d.example.com" % h
        status, details = [], []
        for c in range(PER_HOST):
            name = "cert%02d" % c
            days = rnd.uniform(-20, 400)
            after = now + datetime.timedelta(days=days)
            pending = rnd.random() < 0.01
            rec = dict(order_id="O-%d-%d" % (h, c), deployed_order_id="O-%d-%d" % (h, c), status="issued",
                       deployed_at="2026-01-01T00:00:00Z")
            if pending:
                rec.update(order_id="N-%d-%d" % (h, c), status="pending",
                           pending_link="https://validation.example/dcv?order=N-%d-%d" % (h, c))
            status.append(dict(item=dict(name=name), due="renew" if days < 30 else "none", why="not due",
                               renew_on=_report.iso(after - datetime.timedelta(days=30)), record=rec))
            details.append(dict(name=name, path="/etc/ssl/wotrus/%s.crt" % name, subject="CN=%s.%s" % (name, host),
                                sans=["%s.%s" % (name, host), "www.%s.%s" % (name, host)],
                                issuer="CN=WoTrus DV Server CA,O=WoTrus CA Limited,C=CN",
                                serial="%032X" % rnd.getrandbits(128), not_before="2026-01-01T00:00:00Z",
                                not_after=_report.iso(after), key_type="ecdsa", key_size=256))
        hosts[host] = dict(status=status, details=details)
    return hosts


def main():
    now = datetime.datetime.now(datetime.timezone.utc)
    hosts = fleet(now)
    t0 = time.perf_counter()
    report = _report.build(hosts, now)
    page = _report.to_html(report)
    render_s = time.perf_counter() - t0
    js, prom = _report.to_json(report), _report.to_prom(report)
    out = pathlib.Path(tempfile.mkdtemp(prefix="wotrus-report-bench-"))
    path = out / "certificates.html"
    path.write_text(page)
    loads, sorts, alls = [], [], []
    with Browser() as b:
        for _ in range(3):
            b.open(path)
            loads.append(b.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                              "() => r(performance.now()))))", await_promise=True))
            assert b.js("document.getElementById('shown').textContent") == str(N)
            t = time.perf_counter()
            b.click("th[data-field=days_left]")
            b.js("new Promise(r => requestAnimationFrame(() => r(1)))", await_promise=True)
            sorts.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            b.js("document.getElementById('more').click()")
            b.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))", await_promise=True)
            alls.append((time.perf_counter() - t) * 1000)
            assert b.js("document.querySelectorAll('#certs tbody tr').length") == N
    figures = dict(certificates=N, hosts=len(hosts), html_bytes=len(page.encode()), json_bytes=len(js.encode()),
                   prom_bytes=len(prom.encode()), render_seconds=round(render_s, 2),
                   chromium_load_render_ms=round(statistics.median(loads)), chromium_sort_ms=round(
                       statistics.median(sorts)), chromium_show_all_ms=round(statistics.median(alls)))
    print(json.dumps(figures, indent=1))
    for p in out.iterdir():
        p.unlink()
    out.rmdir()


if __name__ == "__main__":
    main()

"""playbooks/report.yml over two SSH test hosts after the role ran on them, plus what a fleet has: an
expired and a near-expiry certificate in a directory the report is asked to list, an order waiting for
a person (its record), a host that cannot be reached, and a service that serves another certificate.
The run is in check mode and makes no API call. The page is opened in headless Chromium: its rows, the
sort by a click on a header, the filter, the colours of expired and near-expiry rows; a screenshot goes
to docs/report-screenshot.png. The .prom file is parsed as Prometheus parses it."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from browser import Browser

REPO = pathlib.Path(__file__).resolve().parents[2]
HTTPS_PORT = int(os.environ.get("ROLE_TEST_HTTPS_PORT", "8443"))
SCREENSHOT = REPO / "docs" / "report-screenshot.png"
EVIL_CN = '<img src=x onerror="document.title=1">evil'
LINK = "https://validation.example/dcv?order=REPORT-WAIT-1"


def self_signed(cn, days_from, days_to, rsa_key=False):
    key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("legacy.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def report(role_env):
    env = role_env
    h1, h2 = env.hosts[0], env.hosts[1]
    out = env.play("site.yml")
    assert out.returncode == 0, out.stdout[-3000:]
    # What a fleet has besides: old certificates in a directory, one with a hostile subject.
    extra = env.host_file(h1, "/etc/ssl/legacy/x")
    extra.parent.mkdir(parents=True, exist_ok=True)
    (extra.parent / "expired.pem").write_bytes(self_signed("expired.legacy.test", -400, -2, rsa_key=True))
    (extra.parent / "soon.crt").write_bytes(self_signed("soon.legacy.test", -300, 3))
    (extra.parent / "evil.pem").write_bytes(self_signed(EVIL_CN, -10, 200))
    (extra.parent / "notes.txt").write_text("not a certificate\n")
    # host2: an order waits for a person (as the role records it when the API says so).
    rec_path = env.host_file(h2, "/etc/ssl/test-host/site.crt.wotrus.json")
    rec = json.loads(rec_path.read_text())
    rec.update(order_id="REPORT-WAIT-1", status="pending", pending_link=LINK)
    rec_path.write_text(json.dumps(rec))
    # A host that cannot be reached.
    inv = pathlib.Path(env.inventory).parent / "report.ini"
    inv.write_text(pathlib.Path(env.inventory).read_text().replace(
        "[test_hosts]\n", "[test_hosts]\nghost ansible_host=127.0.0.250 test_host_server_name=ghost.test\n", 1))
    out_dir = env.work / "report"
    before = env.counts()
    cmd = env.command("report.yml", extra=dict(
        report_dir=str(out_dir), report_extra_paths=["/etc/ssl/legacy"], report_check_served=True,
        report_served_port=HTTPS_PORT,
        # host2's service is read at host1's address: it serves host1's certificate there.
        report_served_addresses={"site": "%s:%d" % (h1["address"], HTTPS_PORT)}))
    cmd[cmd.index("-i") + 1] = str(inv)
    proc = subprocess.run(cmd + ["--check"], cwd=str(REPO), env=env.env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    with open(env.work / "plays.log", "a") as f:
        f.write("\n\n===== report.yml --check\n" + proc.stdout)
    assert env.counts() == before, "the report made API calls"
    assert proc.returncode == 0 and (out_dir / "certificates.html").exists(), proc.stdout[-4000:]
    data = json.loads((out_dir / "certificates.json").read_text())
    return dict(env=env, proc=proc, dir=out_dir, data=data, h1=h1, h2=h2)


def rows_by(data):
    return dict(((r["host"], r["name"]), r) for r in data["rows"])


def test_json_has_every_certificate_and_the_failed_host(report):
    data, h1, h2 = report["data"], report["h1"]["name"], report["h2"]["name"]
    rows = rows_by(data)
    site1, site2 = rows[(h1, "site")], rows[(h2, "site")]
    # The deployed certificates, as the role put them there.
    rec1 = report["env"].record(report["h1"])
    assert site1["serial"] == rec1["deployed_serial"] and site1["order_id"] == rec1["deployed_order_id"]
    assert site1["urgency"] == "ok" and site1["due"] == "none" and site1["renew_on"]
    assert site1["key_type"] == "ecdsa" and site1["key_size"] == 256
    assert report["h1"]["server_name"] in site1["sans"] and site1["issuer"] and site1["deployed_at"]
    assert 300 < site1["days_left"] < 400
    assert site1["served"] is True
    # host2: waiting for a person, and its address serves another certificate.
    assert site2["urgency"] == "waiting" and site2["pending_link"] == LINK and site2["order_id"] == "REPORT-WAIT-1"
    assert site2["served"] is False and site2["served_serial"] == site1["serial"]
    # The extra files: the expired and the near-expiry ones, the hostile subject; the text file is left out.
    extra = dict((pathlib.Path(r["path"]).name, r) for r in data["rows"] if r["source"] == "extra")
    assert sorted(extra) == ["evil.pem", "expired.pem", "soon.crt"]
    assert extra["expired.pem"]["urgency"] == "expired" and extra["expired.pem"]["key_type"] == "rsa"
    assert extra["soon.crt"]["urgency"] == "critical"
    assert "<img src=x onerror=" in extra["evil.pem"]["subject"].replace("\\", "")
    # The host that cannot be reached is a row with its error; the others were read.
    ghost = [r for r in data["rows"] if r["host"] == "ghost"]
    assert len(ghost) == 1 and ghost[0]["urgency"] == "failed"
    assert "127.0.0.250" in ghost[0]["error"] and ghost[0]["error"].startswith("unreachable")
    assert data["counts"]["failed"] == 1 and data["counts"]["expired"] == 1 and data["counts"]["waiting"] == 1
    assert data["total"] == 6


def test_prometheus_textfile(report):
    from prometheus_client.parser import text_string_to_metric_families
    text = (report["dir"] / "wotrus_pki_certificates.prom").read_text()
    fam = dict((f.name, f) for f in text_string_to_metric_families(text))
    h1, h2 = report["h1"]["name"], report["h2"]["name"]
    pending = dict(((s.labels["host"], s.labels["certificate"]), s.value) for s in fam["wotrus_pki_order_pending"].samples)
    assert pending == {(h1, "site"): 0, (h2, "site"): 1}
    mism = dict((s.labels["host"], s.value) for s in fam["wotrus_pki_certificate_served_mismatch"].samples)
    assert mism == {h1: 0, h2: 1}
    failed = dict((s.labels["host"], s.value) for s in fam["wotrus_pki_report_host_failed"].samples)
    assert failed == {h1: 0, h2: 0, "ghost": 1}
    evil = [s for s in fam["wotrus_pki_certificate_days_left"].samples if s.labels["certificate"].endswith("evil.pem")]
    assert len(evil) == 1
    after = dict(((s.labels["host"], s.labels["certificate"]), s.value)
                 for s in fam["wotrus_pki_certificate_not_after_timestamp_seconds"].samples)
    row = rows_by(report["data"])[(h1, "site")]
    assert after[(h1, "site")] == datetime.datetime.fromisoformat(row["not_after"].replace("Z", "+00:00")).timestamp()


def test_page_in_headless_chromium(report):
    page = report["dir"] / "certificates.html"
    assert EVIL_CN not in page.read_text()
    with Browser() as b:
        b.open(page)
        assert b.js("document.title") == "Certificate report"  # the hostile subject's script did not run
        assert b.js("document.querySelectorAll('#certs tbody tr').length") == 6
        assert b.js("document.querySelectorAll('#certs img').length") == 0
        counts = b.js("Array.from(document.querySelectorAll('.count')).map(c => c.textContent)")
        assert "1failed" in counts and "1expired" in counts and "1waiting" in counts
        assert b.js("document.querySelector('#waiting a').href") == LINK
        assert b.js("document.querySelectorAll('#timeline circle').length") == 5
        # The colours of the expired and the near-expiry rows.
        style = "getComputedStyle(document.querySelector('tr.u-%s')).backgroundColor"
        assert b.js(style % "expired") == "rgb(255, 205, 210)"
        assert b.js(style % "critical") == "rgb(255, 224, 178)"
        assert b.js(style % "ok") != b.js(style % "expired")
        # Sorting: a click on "Days left" sorts ascending, a second one descending.
        days = "Array.from(document.querySelectorAll('#certs tbody tr')).map(r => r.cells[3].textContent)"
        b.click("th[data-field=days_left]")
        got = [float(x) for x in b.js(days) if x]
        assert got == sorted(got) and got[0] < 0 and len(got) == 5
        b.click("th[data-field=days_left]")
        got = [float(x) for x in b.js(days) if x]
        assert got == sorted(got, reverse=True)
        # Filtering by text and by an urgency button.
        b.js("var f=document.getElementById('filter'); f.value='legacy'; f.dispatchEvent(new Event('input'))")
        assert b.js("document.getElementById('shown').textContent") == "3"
        b.js("var f=document.getElementById('filter'); f.value=''; f.dispatchEvent(new Event('input'))")
        b.click(".count.u-waiting")
        assert b.js("Array.from(document.querySelectorAll('#certs tbody tr')).filter(r => r.style.display !== 'none')"
                    ".map(r => r.dataset.urgency)") == ["waiting"]
        b.click(".count.u-waiting")
        b.click("th[data-field=urgency]")
        height = b.js("document.documentElement.scrollHeight")
        b.screenshot(SCREENSHOT, full_height=height)
    assert SCREENSHOT.stat().st_size > 10000

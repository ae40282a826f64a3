# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate report (module_utils/_report.py, filter wotrus.pki.certificate_report): urgency classes,
rows of failed hosts, the HTML escaping of attacker-chosen text, a self-contained page, the JSON, and a
Prometheus textfile that prometheus_client parses with the label values escaped."""

from __future__ import annotations

import json
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.wotrus.pki.plugins.filter.certificate_report import FilterModule
from ansible_collections.wotrus.pki.plugins.module_utils import _report as report

NOW = "2026-06-01T00:00:00Z"
EVIL = '<script>alert(1)</script>"\\\n&x'


def status(name, due="none", not_after="2027-01-01T00:00:00Z", record=None, **kw):
    out = dict(item=dict(name=name), due=due, why="not due", renew_on="2026-12-02T00:00:00Z",
               not_after=not_after, serial="0A", record=record if record is not None else dict(
                   order_id="O-" + name, deployed_order_id="O-" + name, status="issued",
                   deployed_at="2026-01-01T00:00:00Z"))
    out.update(kw)
    return out


def detail(name, not_after="2027-01-01T00:00:00Z", subject="CN=www.example.com", **kw):
    out = dict(name=name, path="/etc/ssl/%s.crt" % name, subject=subject, sans=["www.example.com"],
               issuer="CN=Test CA", serial="0A", not_before="2026-01-01T00:00:00Z", not_after=not_after,
               key_type="ecdsa", key_size=256, served=None, served_serial=None, error=None)
    out.update(kw)
    return out


def hosts():
    return {
        "web1": dict(
            status=[status("ok"), status("expired", due="renew", not_after="2026-05-01T00:00:00Z"),
                    status("soon", due="renew", not_after="2026-06-05T00:00:00Z"),
                    status("warn", due="renew", not_after="2026-06-20T00:00:00Z"),
                    status("wait", due="resume", record=dict(order_id="O-NEW", deployed_order_id="O-OLD",
                                                             status="pending",
                                                             pending_link="https://ca.example/validate?o=1"))],
            details=[detail("ok", subject="CN=" + EVIL), detail("expired", not_after="2026-05-01T00:00:00Z"),
                     detail("soon", not_after="2026-06-05T00:00:00Z", served=False, served_serial="0B"),
                     detail("warn", not_after="2026-06-20T00:00:00Z"), detail("wait")],
            extra=[dict(detail("/etc/ssl/other.pem"), name="/etc/ssl/other.pem", path="/etc/ssl/other.pem")]),
        "web2": dict(error="unreachable: ssh: connect to host 127.0.0.9 port 22: Connection refused"),
    }


def test_urgency_classes():
    data = report.build(hosts(), NOW)
    by = dict(((r["host"], r["name"]), r["urgency"]) for r in data["rows"])
    assert by[("web1", "ok")] == "ok"
    assert by[("web1", "expired")] == "expired"
    assert by[("web1", "soon")] == "critical"
    assert by[("web1", "warn")] == "warning"
    assert by[("web1", "wait")] == "waiting"
    assert by[("web1", "/etc/ssl/other.pem")] == "ok"
    assert by[("web2", None)] == "failed"
    assert data["counts"] == dict(failed=1, expired=1, critical=1, waiting=1, warning=1, ok=2)
    # Most urgent first.
    assert [r["urgency"] for r in data["rows"]][:3] == ["failed", "expired", "critical"]
    assert [r["name"] for r in data["waiting"]] == ["wait"]
    assert data["waiting"][0]["pending_link"] == "https://ca.example/validate?o=1"
    assert data["waiting"][0]["order_id"] == "O-NEW"
    assert [r["host"] for r in data["failures"]] == ["web2"]
    assert [r["name"] for r in data["served_mismatch"]] == ["soon"]


def test_days_left_and_plan_fields():
    row = [r for r in report.build(hosts(), NOW)["rows"] if r["name"] == "expired"][0]
    assert row["days_left"] == -31.0
    assert row["due"] == "renew" and row["renew_on"] == "2026-12-02T00:00:00Z" and row["why"] == "not due"
    assert row["deployed_at"] == "2026-01-01T00:00:00Z"
    assert row["key_type"] == "ecdsa" and row["key_size"] == 256


def test_the_json_holds_the_plan_that_check_mode_prints():
    rows = {r["name"]: r for r in report.build(hosts(), NOW)["rows"]}
    assert rows["expired"]["plan"] == dict(action="renew", why="not due", month=None, key_rotates=False)
    assert rows["ok"]["plan"]["action"] == "nothing"
    assert rows["/etc/ssl/other.pem"]["plan"] is None
    assert any(r["plan"] for r in json.loads(report.to_json(report.build(hosts(), NOW)))["rows"])


def test_a_failed_status_item_is_a_failed_row():
    data = report.build({"h": dict(status=[dict(item=dict(name="x"), failed=True, msg="boom")], details=[])}, NOW)
    assert data["rows"][0]["urgency"] == "failed" and data["rows"][0]["error"] == "boom"


def embedded(page):
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))


def test_html_escapes_every_value_and_is_self_contained():
    page = report.to_html(report.build(hosts(), NOW), title="<b>t</b>")
    # The hostile subject is in the page's data only with <, > and & escaped: no tag, no end of script.
    assert "<script>alert(1)</script>" not in page and "alert(1)" in page
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "&lt;b&gt;t&lt;/b&gt;" in page and "<b>t</b>" not in page
    # Nothing fetched: no external script, stylesheet, font or image.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace(
        'href="https://ca.example/validate?o=1"', ""))
    assert "@import" not in page and "url(" not in page and "<svg" in page
    data = embedded(page)
    assert len(data["r"]) == 7
    subjects = [row[data["c"].index("subject")] for row in data["r"]]
    assert "CN=" + EVIL in subjects
    urgencies = [data["s"][row[data["c"].index("urgency")]] for row in data["r"]]
    assert urgencies.count("expired") == 1 and urgencies[0] == "failed"
    assert 'href="https://ca.example/validate?o=1"' in page
    served = [data["s"][row[data["c"].index("served")]] for row in data["r"]]
    assert "served differs from deployed" in served


def test_timeline_gathers_dots_of_one_day():
    many = dict(("h%d" % i, dict(status=[status("x")], details=[detail("x")])) for i in range(50))
    page = report.to_html(report.build(many, NOW))
    assert page.count("<circle") == 1 and "50 certificates" in page


def test_html_link_only_for_http_urls():
    record = dict(order_id="N", status="pending", pending_link="javascript:alert(1)")
    data = report.build({"h": dict(status=[status("w", record=record)], details=[detail("w")])}, NOW)
    page = report.to_html(data)
    assert 'href="javascript' not in page
    assert "javascript:alert(1)" in page  # shown as text


def test_json_round_trips():
    data = json.loads(report.to_json(report.build(hosts(), NOW)))
    assert data["total"] == 7 and data["generated"] == NOW
    assert set(report.FIELDS) <= set(data["rows"][0])


def test_prometheus_textfile_parses_with_escaped_labels():
    parser = pytest.importorskip("prometheus_client.parser")
    evil_hosts = hosts()
    evil_hosts['we"b\\3\n'] = dict(status=[status("x")], details=[detail("x")])
    text = report.to_prom(report.build(evil_hosts, NOW))
    families = dict((f.name, f) for f in parser.text_string_to_metric_families(text))
    for name, kind, _help in report.METRICS:
        assert families[name].type == kind
        assert "# HELP %s " % name in text
    days = dict(((s.labels["host"], s.labels["certificate"]), s.value)
                for s in families["wotrus_pki_certificate_days_left"].samples)
    assert days[("web1", "expired")] == -31.0
    assert days[('we"b\\3\n', "x")] > 0
    due = dict((s.labels["certificate"], s.value) for s in families["wotrus_pki_certificate_renewal_due"].samples
               if s.labels["host"] == "web1")
    assert due == {"ok": 0, "expired": 1, "soon": 1, "warn": 1, "wait": 1}
    pending = dict((s.labels["certificate"], s.value) for s in families["wotrus_pki_order_pending"].samples
                   if s.labels["host"] == "web1")
    assert pending["wait"] == 1 and pending["ok"] == 0
    mism = [(s.labels["certificate"], s.value) for s in families["wotrus_pki_certificate_served_mismatch"].samples]
    assert mism == [("soon", 1)]
    failed = dict((s.labels["host"], s.value) for s in families["wotrus_pki_report_host_failed"].samples)
    assert failed["web2"] == 1 and failed["web1"] == 0
    stamp = [s.value for s in families["wotrus_pki_certificate_not_after_timestamp_seconds"].samples
             if s.labels["certificate"] == "ok"][0]
    assert stamp == 1798761600


def test_prom_label_escaping():
    assert report.prom_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_filter():
    f = FilterModule().filters()["certificate_report"]
    assert json.loads(f(hosts(), format="json", now=NOW))["total"] == 7
    with pytest.raises(AnsibleFilterError, match="format must be one of"):
        f(hosts(), format="xml", now=NOW)
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        f([], format="json")

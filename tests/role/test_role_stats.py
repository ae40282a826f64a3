"""The certificate role's run summary (set_stats) and renewal spread, over the SSH test hosts.

What an AWX workflow reads: the playbook's custom stats of the whole run (set_stats with per_host
false; the json callback's ``global_custom_stats``, which AWX keeps as the job's artifacts). The
tests build on each other: issue (issued), re-run (unchanged, no order call: the play's one
credential read), spread (check mode says when each renews, different per host, as _role_status computes
it), a host whose service test fails (failed, with the reason; the others renewed).

Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT (conftest.py).
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys

import pytest

from conftest import REPO, own_inventory

sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status  # noqa: E402

NAME = "stats"
SECTIGO = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"  # the sandbox's Sectigo-backed product (pendingDCV on its way)
CERT = "/etc/ssl/test-host/stats.crt"
# A certificate of its own (the other role tests of the session leave theirs in any state), tested and
# reloaded with the host's nginx.
CERTS = """\
certificate_list:
  - name: stats
    common_name: "{{ test_host_server_name }}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/stats.crt
    key_path: /etc/ssl/test-host/stats.key
    chain_path: /etc/ssl/test-host/stats.chain.pem
    fullchain_path: /etc/ssl/test-host/stats.fullchain.pem
    services:
      - name: nginx
        test: [nginx, -t]
        reload: [nginx, -s, reload]
"""


@pytest.fixture(scope="module")
def stats_inventory(role_env):
    inv = own_inventory(role_env, "inventory-stats", CERTS)
    role_env.sandbox.mgmt_post("/config", {"validity_minutes": None})
    return inv / "hosts.ini"


def cert_of(env, h):
    from cryptography import x509
    return x509.load_pem_x509_certificate(env.host_file(h, CERT).read_bytes())


def run(env, extra=None, check=False, callback="json"):
    cmd = env.command("site.yml", extra)
    cmd[cmd.index("-i") + 1] = str(env.work / "inventory-stats" / "hosts.ini")
    if check:
        cmd.append("--check")
    e = env.env()
    e.update(ANSIBLE_SHOW_CUSTOM_STATS="1", ANSIBLE_STDOUT_CALLBACK=callback)
    proc = subprocess.run(cmd, cwd=str(env.work), env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)
    with open(env.work / "plays.log", "a") as f:
        f.write("\n\n===== stats %s %s (rc %d)\n%s\n%s" % (extra or "", check, proc.returncode, proc.stdout,
                                                         proc.stderr))
    return proc


def stats_of(proc):
    """The json callback's document (progress lines of the issue task come before it)."""
    m = re.search(r"^\{$", proc.stdout, re.M)
    assert m, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[m.start():])


def entries(doc, host):
    return doc["global_custom_stats"]["wotrus_pki_summary"][host]


def no_secret(env, proc):
    text = proc.stdout + proc.stderr
    assert env.sandbox.token not in text
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in json.dumps(stats_of(proc)["global_custom_stats"])


def test_first_run_publishes_issued(role_env, stats_inventory):
    env = role_env
    proc = run(env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    doc = stats_of(proc)
    custom = doc["global_custom_stats"]
    names = [h["name"] for h in env.hosts]
    assert sorted(custom["wotrus_pki_summary"]) == sorted(names)
    for h in env.hosts:
        (e,) = entries(doc, h["name"])
        rec = json.loads(env.host_file(h, CERT + ".wotrus.json").read_text())
        assert e["name"] == NAME and e["result"] == "issued" and e["deployed"] is True, e
        assert e["order_id"] == rec["deployed_order_id"]
        assert e["reason"] is None and e["link"] is None
        # The new certificate renews 30 days (the default, no spread) before its end.
        assert e["renew_on"] == role_status.iso(cert_of(env, h).not_valid_after_utc - datetime.timedelta(days=30))
    assert custom["wotrus_pki_total_issued"] == len(names)
    assert custom["wotrus_pki_total_deployed"] == len(names)
    assert custom["wotrus_pki_total_failed"] == 0 and custom["wotrus_pki_total_waiting"] == 0
    no_secret(env, proc)


def test_second_run_is_unchanged_with_one_credential_read(role_env, stats_inventory):
    env = role_env
    before, mark = env.counts(), env.api_mark()
    proc = run(env)
    assert proc.returncode == 0, proc.stdout[-4000:]
    doc = stats_of(proc)
    env.assert_only_the_credential_read(before, mark)
    custom = doc["global_custom_stats"]
    assert custom["wotrus_pki_total_unchanged"] == len(env.hosts)
    assert custom["wotrus_pki_total_deployed"] == 0
    for h in env.hosts:
        (e,) = entries(doc, h["name"])
        assert e["result"] == "unchanged" and e["deployed"] is False
        # The default threshold, no spread: renewed 30 days before the end.
        na = datetime.datetime.strptime(e["not_after"], "%Y-%m-%dT%H:%M:%SZ")
        ro = datetime.datetime.strptime(e["renew_on"], "%Y-%m-%dT%H:%M:%SZ")
        assert na - ro == datetime.timedelta(days=30)
        # Argument spec, preflight, status, summary; the include of the due steps is skipped.
        s = doc["stats"][h["name"]]
        assert (s["changed"], s["failures"], s["skipped"]) == (0, 0, 1) and s["ok"] in (4, 5), s
    # The credential check (run_once, ok) counts on the host that ran it (Ansible may also count it on the others).
    assert doc["stats"][env.hosts[0]["name"]]["ok"] == 5, doc["stats"]


def test_spread_check_mode_says_when_each_renews(role_env):
    """Short-lived certificates (an hour), renewed 0.01 days before their end, spread over 30 days: the window
    is capped at half their life before the threshold; each host's certificate renews at its own time, which
    check mode prints; nothing is due yet: no order call, only the play's credential read."""
    env = role_env
    env.sandbox.mgmt_post("/config", {"validity_minutes": 60})
    try:
        proc = run(env, extra={"certificate_renew_before_days": 400}, callback="default")
        assert proc.returncode == 0, proc.stdout[-4000:]
    finally:
        env.sandbox.mgmt_post("/config", {"validity_minutes": None})
    before, mark = env.counts(), env.api_mark()
    spread = {"certificate_renew_before_days": 0.01, "certificate_renew_spread_days": 30}
    proc = run(env, extra=spread, check=True, callback="default")
    assert proc.returncode == 0, proc.stdout[-4000:]
    printed = {}
    for h in env.hosts:
        m = re.search(r"^ok: \[%s\] => \(item=stats: not due, renews on (\S+) \(spread over 30 days\)\)$"
                      % re.escape(h["name"]), proc.stdout, re.M)
        assert m, proc.stdout[-4000:]
        printed[h["name"]] = m.group(1)
        cert = cert_of(env, h)
        want = role_status.renew_on(cert.not_valid_before_utc, cert.not_valid_after_utc, 0.01, 0, 30,
                                    h["name"], NAME)
        assert printed[h["name"]] == role_status.iso(want)
        threshold = cert.not_valid_after_utc - datetime.timedelta(days=0.01)
        assert cert.not_valid_before_utc + (threshold - cert.not_valid_before_utc) / 2 <= want <= threshold
    assert len(set(printed.values())) == len(env.hosts), printed
    # The summary says it too (check mode publishes it as well).
    proc = run(env, extra=spread, check=True)
    doc = stats_of(proc)
    assert dict((h, entries(doc, h)[0]["renew_on"]) for h in printed) == printed
    env.assert_only_the_credential_read(before, mark, plays=2)


def test_a_failed_host_publishes_failed_with_the_reason(role_env, stats_inventory):
    env = role_env
    h1 = env.hosts[0]
    broken = env.host_file(h1, "/etc/nginx/conf.d/zz-broken.conf")
    broken.write_text("this is not an nginx directive;\n")
    try:
        proc = run(env, extra={"certificate_force_renew": True})
    finally:
        broken.unlink()
    assert proc.returncode != 0
    doc = stats_of(proc)
    assert doc["stats"][h1["name"]]["failures"] == 1, doc["stats"]
    (e,) = entries(doc, h1["name"])
    assert e["result"] == "failed" and e["deployed"] is False, e
    assert "the test of service nginx failed" in e["reason"], e
    for h in env.hosts[1:]:
        (o,) = entries(doc, h["name"])
        assert o["result"] == "renewed" and o["deployed"] is True, o
        assert doc["stats"][h["name"]]["failures"] == 0
    custom = doc["global_custom_stats"]
    assert custom["wotrus_pki_total_failed"] == 1
    assert custom["wotrus_pki_total_renewed"] == len(env.hosts) - 1
    # The host fails with the reason after publishing it.
    assert "the certificate role failed on this host: stats: " in proc.stdout
    no_secret(env, proc)
    # The next workflow node (playbooks/summary.yml) gets the stats as extra variables, as AWX passes
    # them, and fails naming the host; with certificate_summary_fail_on [] it passes.
    artifacts = env.work / "artifacts.json"
    artifacts.write_text(json.dumps(custom))
    node = [str(REPO / ".venv" / "bin" / "ansible-playbook"), str(REPO / "playbooks" / "summary.yml"),
            "-e", "@%s" % artifacts]
    out = subprocess.run(node, cwd=str(env.work), env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=120)
    assert out.returncode != 0 and "1 certificate(s) failed: %s stats: failed" % h1["name"] in out.stdout, out.stdout
    out = subprocess.run(node + ["-e", '{"certificate_summary_fail_on": []}'], cwd=str(env.work), env=env.env(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert out.returncode == 0 and "%s stats: renewed" % env.hosts[1]["name"] in out.stdout, out.stdout


def test_a_bad_spread_is_refused_before_any_api_call_and_published_as_failed(role_env, stats_inventory):
    env = role_env
    before = env.counts()
    proc = run(env, extra={"certificate_renew_spread_days": 400})
    assert proc.returncode != 0
    assert env.counts() == before
    doc = stats_of(proc)
    for h in env.hosts:
        (e,) = entries(doc, h["name"])
        assert e["name"] == NAME and e["result"] == "failed", e
        assert "certificate_renew_spread_days: must be a whole number of days from 0 (off) to 365" in e["reason"]
    assert doc["global_custom_stats"]["wotrus_pki_total_failed"] == len(env.hosts)


def test_an_order_waiting_for_a_person_is_published_with_its_link(role_env, stats_inventory):
    """A Sectigo-backed order held in pendingDCV: each host ends cleanly (rc 0) after publishing its entry
    (once: the counter is the number of hosts), with the link a person must open."""
    env = role_env
    waiting = [{"name": "stats-wait", "common_name": "{{ test_host_server_name }}", "product_id": SECTIGO,
                "key_type": "ecdsa", "key_size": 256,
                "cert_path": "/etc/ssl/test-host/stats-wait.crt", "key_path": "/etc/ssl/test-host/stats-wait.key",
                "chain_path": "/etc/ssl/test-host/stats-wait.chain.pem",
                "fullchain_path": "/etc/ssl/test-host/stats-wait.fullchain.pem"}]
    env.sandbox.mgmt_post("/config", {"delays": {"pendingSubmitOrderToCA": 0, "pendingDCV": 3600}})
    try:
        proc = run(env, extra={"certificate_list": waiting, "certificate_wait_timeout": 30})
    finally:
        env.sandbox.mgmt_post("/config", {"delays": {"pendingSubmitOrderToCA": 0, "pendingDCV": 0}})
    assert proc.returncode == 0, proc.stdout[-4000:]
    doc = stats_of(proc)
    for h in env.hosts:
        (e,) = entries(doc, h["name"])
        rec = json.loads(env.host_file(h, "/etc/ssl/test-host/stats-wait.crt.wotrus.json").read_text())
        assert e["result"] == "waiting" and e["deployed"] is False, e
        assert e["link"] == rec["pending_link"] and e["link"].startswith(env.sandbox.api_url), (e, rec)
        assert e["order_id"] == rec["order_id"] and "pendingDCV" in e["reason"], e
    custom = doc["global_custom_stats"]
    assert custom["wotrus_pki_total_waiting"] == len(env.hosts)
    assert custom["wotrus_pki_total_failed"] == 0

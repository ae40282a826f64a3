# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's run summary (set_stats data, filter wotrus.pki.certificate_summary): each certificate's
result from the registered loop results, the reason of a failure, the link an order waits on, the
counters, and nothing secret."""

from __future__ import annotations

import json

from ansible_collections.wotrus.pki.plugins.filter.certificate_summary import FilterModule
from ansible_collections.wotrus.pki.plugins.module_utils import _role_summary as summary

PLAN = [dict(name="www", common_name="www.example.com"), dict(name="api", common_name="api.example.com"),
        dict(name="mail", common_name="mail.example.com")]
SECRET = "SENTINEL-certificate-body-must-not-appear"


def loop(*items):
    return dict(results=[dict(one, item=dict(name=name)) for name, one in items])


def status(due, **kw):
    out = dict(due=due, order_id=None, not_after="2027-01-01T00:00:00Z", renew_on="2026-12-02T00:00:00Z",
               record=dict(deployed_order_id="OLD-%s" % due))
    out.update(kw)
    return out


def skipped():
    return dict(skipped=True)


def test_every_result_and_the_counters():
    st = loop(("www", status("new")), ("api", status("none")), ("mail", status("renew")))
    iss = loop(("www", dict(state="issued", order_id="O-1", not_after="2027-02-01T00:00:00Z", certificate=SECRET,
                            record=dict(order_id="O-1", purpose="new"))),
               ("api", skipped()),
               ("mail", dict(state="needs_person", order_id="O-3", pending_link="https://example.test/dcv/O-3",
                             msg="web1 mail: order O-3 is pendingDCV: validate the domain; run again",
                             record=dict(order_id="O-3"))))
    dep = loop(("www", dict(changed=True, deployed=True, not_after="2027-02-01T00:00:00Z")),
               ("api", skipped()), ("mail", dict(changed=True, deployed=False)))
    data = FilterModule().filters()["certificate_summary"](PLAN, "web1", status=st, issue=iss, deploy=dep)
    www, api, mail = data["wotrus_pki_summary"]["web1"]
    assert (www["result"], www["order_id"], www["deployed"], www["not_after"]) == \
        ("issued", "O-1", True, "2027-02-01T00:00:00Z")
    assert (api["result"], api["order_id"], api["renew_on"]) == ("unchanged", "OLD-none", "2026-12-02T00:00:00Z")
    assert (mail["result"], mail["link"]) == ("waiting", "https://example.test/dcv/O-3")
    assert mail["reason"] == "order O-3 is pendingDCV: validate the domain; run again"  # no "web1 mail: "
    assert data["wotrus_pki_total_issued"] == 1 and data["wotrus_pki_total_unchanged"] == 1
    assert data["wotrus_pki_total_waiting"] == 1 and data["wotrus_pki_total_deployed"] == 1
    assert data["wotrus_pki_total_failed"] == 0 and data["wotrus_pki_total_renewed"] == 0
    assert set(data) == set(["wotrus_pki_summary", "wotrus_pki_total_deployed"] +
                            ["wotrus_pki_total_" + r for r in summary.RESULTS])
    assert "SENTINEL" not in json.dumps(data)


def test_a_resumed_order_is_named_by_its_purpose_and_a_reissue_is_a_renewal():
    st = loop(("www", status("resume", order_id="O-9")), ("api", status("reissue")), ("mail", status("revoke")))
    iss = loop(("www", dict(state="issued", record=dict(order_id="O-9", purpose="renew"))),
               ("api", dict(state="issued", order_id="O-10", record=dict(order_id="O-10"))),
               ("mail", dict(state="revoked", order_id="O-11", record=dict(order_id="O-11"))))
    dep = loop(("www", dict(deployed=True)), ("api", dict(deployed=True)), ("mail", dict(deployed=False)))
    out = summary.summarize(PLAN, st, iss, dep, host="web1")
    assert [e["result"] for e in out] == ["renewed", "renewed", "revoked"]
    assert out[0]["order_id"] == "O-9"


def test_a_failed_deployment_gives_its_reason_and_the_others_keep_theirs():
    st = loop(("www", status("renew")), ("api", status("renew")), ("mail", status("none")))
    iss = loop(("www", dict(state="issued", record=dict(order_id="O-1"))),
               ("api", dict(state="issued", record=dict(order_id="O-2"))), ("mail", skipped()))
    bad = dict(failed=True, msg="www: the test of service nginx failed (nginx -t exited 1)")
    dep = loop(("www", bad), ("api", dict(deployed=True)), ("mail", skipped()))
    out = summary.summarize(PLAN, st, iss, dep, failed=loop(("www", bad), ("api", dict(changed=True))), host="h")
    assert out[0]["result"] == "failed" and out[0]["reason"] == "the test of service nginx failed (nginx -t exited 1)"
    assert out[0]["order_id"] == "O-1" and out[0]["deployed"] is False
    assert [e["result"] for e in out[1:]] == ["renewed", "unchanged"]


def test_an_order_error_is_failed_with_it():
    st = loop(("www", status("new")))
    iss = loop(("www", dict(state="timeout", order_id="O-1", error="h www: order O-1 is not issued after 600s")))
    out = summary.summarize(PLAN[:1], st, iss, dict(results=[skipped()]), host="h")
    assert out[0]["result"] == "failed" and out[0]["reason"] == "order O-1 is not issued after 600s"


def test_a_failed_task_without_a_loop_fails_every_certificate_not_done():
    # The preflight failed: no plan, the names of certificate_list.
    failed = dict(failed=True, msg="the certificate role's inputs are wrong: certificate_renew_spread_days: must be")
    out = summary.summarize([], failed=failed, certificate_list=[dict(name="www"), "junk"], host="h")
    assert [(e["name"], e["result"]) for e in out] == [("www", "failed")]
    assert out[0]["reason"].startswith("the certificate role's inputs are wrong")
    # Nothing named at all: one entry for the host.
    out = summary.summarize(None, failed=failed, certificate_list=[], host="h")
    assert out[0]["name"] is None and out[0]["result"] == "failed"


def test_a_step_that_failed_before_the_order_names_the_certificate():
    # The key task failed for api: www was due too but never reached the order step.
    st = loop(("www", status("new")), ("api", status("new")), ("mail", status("none")))
    failed = loop(("www", dict(changed=True)), ("api", dict(failed=True, msg="api: permission denied")))
    out = summary.summarize(PLAN, st, failed=failed, host="h")
    assert [(e["result"], e["reason"]) for e in out] == [
        ("failed", "not done, the role stopped on this host: api: permission denied"),
        ("failed", "permission denied"), ("unchanged", None)]


def test_a_status_that_failed_is_failed():
    st = loop(("www", dict(failed=True, msg="cryptography 3.3 is too old on this host")))
    out = summary.summarize(PLAN[:1], st, failed=st, host="h")
    assert out[0]["result"] == "failed" and "too old" in out[0]["reason"]


def test_check_mode_is_planned():
    st = loop(("www", status("new")), ("api", status("none")))
    iss = loop(("www", dict(state="would_order", changed=True)), ("api", skipped()))
    out = summary.summarize(PLAN[:2], st, iss, loop(("www", skipped()), ("api", skipped())), check_mode=True)
    assert [e["result"] for e in out] == ["planned", "unchanged"]
    assert summary.stats("h", out)["wotrus_pki_total_planned"] == 1


def test_a_certificate_deployed_in_this_run_says_when_it_renews():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com")])
    nb = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(nb).not_valid_after(nb + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    st = loop(("www", status("renew")))
    iss = loop(("www", dict(state="issued", certificate=pem, record=dict(order_id="O-1"))))
    renewal = dict(renew_before_days=30, renew_before_percent=0, renew_spread_days=20)
    out = summary.summarize(PLAN[:1], st, iss, loop(("www", dict(deployed=True))), host="web1", renewal=renewal)
    want = role_status.renew_on(nb, nb + datetime.timedelta(days=365), 30, 0, 20, "web1", "www")
    assert out[0]["result"] == "renewed" and out[0]["renew_on"] == role_status.iso(want)
    # Without the settings (or the certificate) it is not guessed.
    out = summary.summarize(PLAN[:1], st, iss, loop(("www", dict(deployed=True))), host="web1")
    assert out[0]["renew_on"] is None


def test_outputs_added_to_the_deployed_certificate_are_unchanged_and_deployed():
    st = loop(("www", status("outputs")))
    iss = loop(("www", skipped()))
    dep = loop(("www", dict(changed=True, deployed=True)))
    [e] = summary.summarize(PLAN[:1], st, iss, dep)
    assert (e["result"], e["deployed"], e["order_id"]) == ("unchanged", True, "OLD-outputs")
    [planned] = summary.summarize(PLAN[:1], st, iss, loop(("www", skipped())), check_mode=True)
    assert planned["result"] == "planned"
    [failed] = summary.summarize(PLAN[:1], st, iss, loop(("www", dict(failed=True, msg="haproxy -c failed"))))
    assert failed["result"] == "failed" and "haproxy" in failed["reason"]

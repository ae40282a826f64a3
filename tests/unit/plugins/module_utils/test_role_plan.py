# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode as a plan (filter wotrus.pki.certificate_plan): each summary entry's plan fields from the
status, the terraform-like lines per host and certificate, and the totals."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.filter.certificate_plan import FilterModule
from ansible_collections.wotrus.pki.plugins.module_utils import _role_plan as plan
from ansible_collections.wotrus.pki.plugins.module_utils import _role_summary as summary

PLAN = [dict(name="www", common_name="www.example.com"), dict(name="api", common_name="api.example.com"),
        dict(name="mail", common_name="mail.example.com")]


def loop(*items):
    return dict(results=[dict(one, item=dict(name=name)) for name, one in items])


def status(due, why="", month=12, key="current", **kw):
    out = dict(due=due, why=why, month=month, key=key, new_key=key == "staged", order_id=None,
               not_after="2027-01-01T00:00:00Z", renew_on="2026-12-02T00:00:00Z", record=dict())
    out.update(kw)
    return out


def check_mode_summary(host, *items):
    certs = [dict(name=n, common_name=n + ".example.com") for n, _s in items]
    st = loop(*items)
    iss = loop(*[(n, dict(skipped=True) if s["due"] == "none" else dict(state="would_order", changed=True))
                 for n, s in items])
    return summary.stats(host, summary.summarize(certs, st, iss, check_mode=True, host=host))


def test_the_plan_fields_of_each_due():
    assert plan.fields(status("new", "no certificate at /c", 12, "staged")) == dict(
        action="new", why="no certificate at /c", month=12, key_rotates=True)
    assert plan.fields(status("renew", "5.0 days left", 13, "current")) == dict(
        action="renew", why="5.0 days left", month=13, key_rotates=False)
    # A reissue and a resume order no months; a resumed order made for a staged key rotates it.
    assert plan.fields(status("reissue", "asked", 12, "staged"))["month"] is None
    assert plan.fields(status("resume", "not deployed yet", 12, "staged")) == dict(
        action="resume", why="not deployed yet", month=None, key_rotates=True)
    assert plan.fields(status("revoke", "asked", 12, "current"))["key_rotates"] is False
    assert plan.fields(status("none", "not due", 12, "current"))["action"] == "nothing"
    assert plan.fields(status("outputs", "no DER yet", 12, "current"))["month"] is None


def test_summary_entries_carry_the_plan():
    st = loop(("www", status("new", "no certificate at /etc/ssl/www.crt", 12, "staged")),
              ("api", status("none", plan.NOT_DUE)),
              ("mail", status("renew", "a renewal was forced (force_renew)", 25, "staged")))
    out = summary.summarize(PLAN, st, check_mode=True, host="web1")
    assert [(e["action"], e["month"], e["key_rotates"]) for e in out] == [
        ("new", 12, True), ("nothing", None, False), ("renew", 25, True)]
    assert out[2]["why"] == "a renewal was forced (force_renew)"
    # A certificate whose status failed has no plan, only its reason.
    failed = summary.summarize(PLAN[:1], loop(("www", dict(failed=True, msg="too old"))), host="web1")
    assert (failed[0]["action"], failed[0]["result"]) == (None, "failed")


def test_lines_per_host_and_certificate_and_the_totals():
    web1 = check_mode_summary(
        "web1", ("www", status("new", "no certificate at /etc/ssl/www.crt", 12, "staged")),
        ("api", status("renew", "25.4 days left, fewer than renew_before_days 30", 13, "staged")),
        ("mail", status("none", plan.NOT_DUE)))
    web2 = check_mode_summary(
        "web2", ("www", status("resume", "order O-1 (pendingIssue) is not deployed yet; resuming it", key="staged")),
        ("api", status("reissue", "a reissue of order O-2 with a new key was asked for", key="staged")),
        ("mail", status("revoke", "revocation of order O-3 (serial 0A) was asked for")),
        ("db", status("renew", "a renewal was forced (force_renew)", 12, "current")))
    out = FilterModule().filters()["certificate_plan"]([web1, web2])
    assert out["lines"] == [
        "web1:",
        "  +   www: new, month 12, new key  # no certificate at /etc/ssl/www.crt",
        "  ~   api: renew now, month 13, new key  # 25.4 days left, fewer than renew_before_days 30",
        "      mail: nothing, renews on 2026-12-02T00:00:00Z",
        "web2:",
        "  >   www: resume, new key  # order O-1 (pendingIssue) is not deployed yet; resuming it",
        "  -/+ api: reissue, new key  # a reissue of order O-2 with a new key was asked for",
        "  -   mail: revoke  # revocation of order O-3 (serial 0A) was asked for",
        "  ~   db: renew now, month 12, same key  # a renewal was forced (force_renew)",
        "Plan: 1 new, 2 renew, 1 reissue, 1 revoke, 1 resume, 1 unchanged",
    ]
    assert out["totals"] == dict(new=1, renew=2, reissue=1, revoke=1, resume=1, outputs=0, nothing=1, failed=0)


def test_the_input_may_be_the_summary_the_stats_or_registered_results():
    data = check_mode_summary("web1", ("www", status("new", "x", 12, "staged")))
    registered = dict(changed=False, ansible_stats=dict(data=data, per_host=False, aggregate=True))
    for given in (data, data["wotrus_pki_summary"], [registered], [registered, "junk", None]):
        assert plan.render(given)["lines"] == ["web1:", "  +   www: new, month 12, new key  # x",
                                               "Plan: 1 new, 0 renew, 0 reissue, 0 revoke, 0 resume, 0 unchanged"]
    assert plan.render([])["text"] == "Plan: 0 new, 0 renew, 0 reissue, 0 revoke, 0 resume, 0 unchanged"


def test_failed_outputs_and_a_reason_not_the_default_are_shown():
    failed = summary.stats("web1", summary.summarize([], failed=dict(msg="certificate_list: must be a list"),
                                                     certificate_list=[dict(name="www")], host="web1"))
    skipped = "the certificate was issued at X, not before reissue_issued_before Y: not reissued; " + plan.NOT_DUE
    other = check_mode_summary("web2", ("www", status("outputs", "the deployed certificate has no DER yet")),
                               ("api", status("none", skipped, renew_on=None)))
    out = plan.render([failed, other])
    assert out["lines"] == [
        "web1:",
        "  !   www: failed  # certificate_list: must be a list",
        "web2:",
        "  ~   www: outputs  # the deployed certificate has no DER yet",
        "      api: nothing  # " + skipped,
        "Plan: 0 new, 0 renew, 0 reissue, 0 revoke, 0 resume, 1 outputs, 1 unchanged, 1 failed",
    ]
    assert plan.render(other, prefix="Done")["lines"][-1].startswith("Done: ")


def test_the_text_is_the_lines():
    data = check_mode_summary("web1", ("www", status("new", "x", 12, "staged")), ("api", status("none", "y")))
    out = plan.render(data)
    assert out["text"] == "\n".join(out["lines"]) and len(out["lines"]) == 4


def test_a_host_of_the_play_without_a_summary_is_said():
    data = check_mode_summary("web2", ("www", status("new", "x", 12, "staged")))
    out = FilterModule().filters()["certificate_plan"]([data], hosts=["web1", "web2", "web3"])
    assert out["lines"] == [
        "web1:", "  ?   no plan: the host was unreachable or failed before the role's summary",
        "web2:", "  +   www: new, month 12, new key  # x",
        "web3:", "  ?   no plan: the host was unreachable or failed before the role's summary",
        "Plan: 1 new, 0 renew, 0 reissue, 0 revoke, 0 resume, 0 unchanged, 2 host(s) without a plan"]
    assert out["hosts_without_plan"] == ["web1", "web3"]
    # A summary of a host the play does not name is shown too, after them.
    assert plan.render(data, hosts=["web1"])["lines"][2] == "web2:"

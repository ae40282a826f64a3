# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate role's run summary: what happened to each certificate of a
host, from the results the role registered (status, issue, deploy) and, when
the host failed, the failed task's result. The role publishes it with
``ansible.builtin.set_stats`` (the filter wotrus.pki.certificate_summary) so an
AWX workflow can branch on it and a notification can say what happened.

Only facts a person may read go in: names, results, order ids, dates, the
link an order waits on, the reason of a failure (the collection's messages
carry no secret). Never keys, certificates, CSRs, tokens or records.

No Ansible import: unit tests call it directly.
"""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils import _role_plan as role_plan
from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _x509

ISSUED = "issued"
RENEWED = "renewed"
REVOKED = "revoked"
UNCHANGED = "unchanged"
WAITING = "waiting"
FAILED = "failed"
PLANNED = "planned"  # check mode: due, nothing done
RESULTS = (ISSUED, RENEWED, REVOKED, UNCHANGED, WAITING, FAILED, PLANNED)

STATS_SUMMARY = "wotrus_pki_summary"
STATS_TOTAL = "wotrus_pki_total_"
STATS_DEPLOYED = STATS_TOTAL + "deployed"

# What the certificate's order was for -> what the summary says once it is deployed.
BY_PURPOSE = {"new": ISSUED, "renew": RENEWED, "reissue": RENEWED, "revoke": REVOKED}


def _results(registered):
    """The per-item results of a registered loop, [] when it did not run."""
    if isinstance(registered, dict):
        return list(registered.get("results") or [])
    return []


def _at(items, i, name):
    """Item ``i`` of a loop's results when it is the certificate ``name`` (and ran), else None."""
    if i >= len(items) or not isinstance(items[i], dict):
        return None
    one = items[i]
    item = one.get("item")
    if isinstance(item, dict) and item.get("name") not in (None, name):
        return None
    if one.get("skipped"):
        return None
    return one


def _reason(result, host=None, name=None):
    """A failed result's sentence, without the "<host> <name>: " or "<name>: " the entry says already."""
    text = " ".join(str(result.get("msg") or result.get("error") or result.get("stderr") or "failed").split())
    for prefix in ("%s %s: " % (host, name), "%s: " % name):
        if name and text.startswith(prefix):
            return text[len(prefix):]
    return text


def _failed_items(failed, host):
    """{certificate name: reason} of a failed loop task, and the reason of a failed task without a loop."""
    if not isinstance(failed, dict) or not failed:
        return {}, None
    items = failed.get("results")
    if isinstance(items, list):
        out = {}
        for one in items:
            if isinstance(one, dict) and one.get("failed"):
                item = one.get("item")
                name = item.get("name") if isinstance(item, dict) else None
                out[name] = _reason(one, host, name)
        return out, None if out else _reason(failed)
    return {}, _reason(failed)


def _next_renewal(issue, renewal, host, name):
    """When the certificate just issued renews (ISO 8601), from its PEM and the renewal settings; None when
    either is not there."""
    certs = _x509.load_certs(str(issue.get("certificate") or "").encode("ascii", "ignore"))
    if not certs or renewal is None:
        return None
    when = role_status.renew_on(_x509.not_before(certs[0]), _x509.not_after(certs[0]),
                                renewal.get("renew_before_days") or 0, renewal.get("renew_before_percent") or 0,
                                renewal.get("renew_spread_days") or 0, host, name)
    return role_status.iso(when)


def entry(cert, status, issue, deploy, check_mode=False, host=None, renewal=None):
    """One certificate's entry, from its status, issue and deploy results (None where the step did not run).
    ``renewal`` (renew_before_days, renew_before_percent, renew_spread_days) gives a newly deployed
    certificate its ``renew_on``."""
    name = cert.get("name")
    e = dict(name=name, common_name=cert.get("common_name"), result=None, due=None, order_id=None,
             not_after=None, renew_on=None, link=None, reason=None, deployed=False,
             action=None, why=None, month=None, key_rotates=False)
    if status is None:
        return e
    if status.get("failed"):
        e.update(result=FAILED, reason=_reason(status, host, name))
        return e
    e.update(due=status.get("due"), order_id=status.get("order_id") or (status.get("record") or {}).get(
        "deployed_order_id"), not_after=status.get("not_after"), renew_on=status.get("renew_on"))
    # The plan (what the run does or, in check mode, would do): action, why, month, key_rotates.
    e.update(role_plan.fields(status))
    if status.get("due") in (None, "none"):
        e["result"] = UNCHANGED
        return e
    if status.get("due") == "outputs":
        # Outputs added to the deployed certificate, made from its files: no order, same certificate.
        e["result"] = PLANNED if check_mode else UNCHANGED
        if deploy is not None and deploy.get("failed"):
            e.update(result=FAILED, reason=_reason(deploy, host, name))
        elif deploy is not None:
            e["deployed"] = bool(deploy.get("deployed"))
        return e
    # Something was due: the order, then the deployment.
    e["renew_on"] = None
    if issue is None:
        return e
    record = issue.get("record") or {}
    e["order_id"] = issue.get("order_id") or record.get("order_id") or e["order_id"]
    if issue.get("failed"):
        e.update(result=FAILED, reason=_reason(issue, host, name))
    elif issue.get("error"):
        e.update(result=FAILED, reason=_reason(dict(msg=issue["error"]), host, name))
    elif issue.get("state") == "needs_person":
        e.update(result=WAITING, link=issue.get("pending_link"), reason=_reason(issue, host, name))
    elif check_mode or str(issue.get("state") or "").startswith("would_"):
        e["result"] = PLANNED
    if deploy is not None:
        if deploy.get("failed"):
            e.update(result=FAILED, reason=_reason(deploy, host, name))
        elif e["result"] is None:
            due = status.get("due")
            purpose = record.get("purpose") if due == "resume" else due
            e.update(result=BY_PURPOSE.get(purpose, ISSUED), deployed=bool(deploy.get("deployed")),
                     not_after=deploy.get("not_after") or issue.get("not_after") or e["not_after"])
            if e["result"] != REVOKED and e["deployed"]:
                e["renew_on"] = _next_renewal(issue, renewal, host, name)
        else:
            e["deployed"] = bool(deploy.get("deployed"))
    return e


def summarize(certificates, status=None, issue=None, deploy=None, failed=None, check_mode=False,
              certificate_list=None, host=None, renewal=None):
    """The entries of one host: one per certificate, each with a result (RESULTS).

    ``certificates`` is the preflight plan's list; ``status``, ``issue`` and ``deploy`` the registered loop
    results; ``failed`` the failed task's result when the role failed on this host (its rescue). Without a
    plan (the preflight failed) the names of ``certificate_list`` are used.
    """
    statuses, issues, deploys = _results(status), _results(issue), _results(deploy)
    per_item, whole = _failed_items(failed, host)
    if not certificates:
        raw = [c for c in (certificate_list or []) if isinstance(c, dict)]
        certificates = [dict(name=c.get("name"), common_name=c.get("common_name")) for c in raw]
        statuses = issues = deploys = []
    entries = []
    for i, cert in enumerate(certificates):
        name = cert.get("name")
        e = entry(cert, _at(statuses, i, name), _at(issues, i, name), _at(deploys, i, name), check_mode, host, renewal)
        if name in per_item and e["result"] != FAILED:
            e.update(result=FAILED, reason=per_item[name])
        if e["result"] is None:
            # The role stopped before this certificate's steps ran.
            e.update(result=FAILED, reason=whole or (
                "not done, the role stopped on this host: %s" % "; ".join(
                    "%s: %s" % (n or "?", r) for n, r in sorted(per_item.items(), key=lambda x: str(x[0])))
                if per_item else "not done, the role did not finish on this host"))
        entries.append(e)
    if not entries and (whole or per_item):
        entries.append(dict(name=None, common_name=None, result=FAILED, due=None, order_id=None, not_after=None,
                            renew_on=None, link=None, reason=whole or "; ".join(per_item.values()), deployed=False,
                            action=None, why=None, month=None, key_rotates=False))
    return entries


def stats(host, entries):
    """The data the role publishes with set_stats (per_host false, aggregate true): the entries under
    ``wotrus_pki_summary.<host>`` and a counter per result (every one, 0 included, so a workflow can test
    them without a default), plus ``wotrus_pki_total_deployed``."""
    out = {STATS_SUMMARY: {host: entries}}
    for result in RESULTS:
        out[STATS_TOTAL + result] = sum(1 for e in entries if e["result"] == result)
    out[STATS_DEPLOYED] = sum(1 for e in entries if e.get("deployed"))
    return out

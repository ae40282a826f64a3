# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode as a plan: what a run would do to each certificate of each host, read the way
``terraform plan`` reads, from the role's run summary (_role_summary's entries).

Each entry of the summary carries its plan (``fields``): the ``action`` (nothing, new, renew,
reissue, revoke, resume, outputs), ``why`` (certificate_status's sentence), ``month`` (the months a new
or renewal order buys, 13/25 when time carries over) and ``key_rotates`` (the certificate will be
deployed with a new key); ``renew_on`` says when a certificate with nothing to do renews.
``render`` makes the lines: one per host, then one per certificate, then the totals.

No Ansible import: unit tests call it directly.
"""

from __future__ import annotations

NOTHING = "nothing"
FAILED = "failed"
# The actions, in the order the totals give them; "nothing" is counted as unchanged.
ACTIONS = ("new", "renew", "reissue", "revoke", "resume", "outputs", NOTHING)
# The mark before a certificate's line, as terraform marks create / update / replace / destroy.
MARKS = {"new": "+", "renew": "~", "reissue": "-/+", "revoke": "-", "resume": ">", "outputs": "~",
         NOTHING: "", FAILED: "!"}
# Actions that order (and so buy months); those whose deployment puts a new key in place.
ORDERING = ("new", "renew")
WITH_KEY = ("new", "renew", "reissue", "resume")
NOT_DUE = "the certificate is deployed and not due"


def fields(status):
    """The plan of one certificate from its certificate_status result: action, why, month, key_rotates."""
    due = status.get("due")
    action = NOTHING if due in (None, "none") else str(due)
    month = status.get("month") if action in ORDERING else None
    return dict(action=action, why=status.get("why"),
                month=int(month) if month not in (None, "") else None,
                key_rotates=bool(action in WITH_KEY and status.get("key") == "staged"))


def summaries(data):
    """{host: entries} from the summary (a dict of host to entries, or the role's set_stats data) or a list
    of them (the registered results of the role's summary task, one per host)."""
    out = {}
    for one in data if isinstance(data, list) else [data]:
        if not isinstance(one, dict):
            continue
        one = (one.get("ansible_stats") or {}).get("data", one) if "ansible_stats" in one else one
        one = one.get("wotrus_pki_summary", one)
        for host, entries in one.items():
            if isinstance(entries, list):
                out.setdefault(str(host), []).extend(e for e in entries if isinstance(e, dict))
    return out


def action_of(e):
    """The entry's action; ``failed`` when its status could not be read (or the role failed before)."""
    if e.get("result") == FAILED:
        return FAILED
    return e.get("action") or NOTHING


def line(e):
    """One certificate's line: mark, name, action with when, month and key, and why."""
    action = action_of(e)
    what = [action]
    if action == FAILED:
        return "  %-3s %s: failed  # %s" % (MARKS[FAILED], e.get("name") or "certificate_list", e.get("reason") or "")
    if action == NOTHING:
        if e.get("renew_on"):
            what.append("renews on %s" % e["renew_on"])
    else:
        what[0] = "%s now" % action if action == "renew" else action
        if e.get("month"):
            what.append("month %s" % e["month"])
        if action in WITH_KEY:
            what.append("new key" if e.get("key_rotates") else "same key")
    why = e.get("why")
    if e.get("result") == "waiting":
        why = e.get("reason") or why
    text = "  %-3s %s: %s" % (MARKS.get(action, "?"), e.get("name"), ", ".join(what))
    if why and not (action == NOTHING and why == NOT_DUE):
        text += "  # %s" % why
    return text


def totals(data):
    """{action: count} over all hosts, every action (0 included), plus ``failed``."""
    out = dict((a, 0) for a in ACTIONS + (FAILED,))
    for entries in summaries(data).values():
        for e in entries:
            a = action_of(e)
            out[a if a in out else NOTHING] += 1
    return out


def totals_line(counts, prefix="Plan"):
    """``Plan: 2 new, 1 renew, 0 reissue, 0 revoke, 1 resume, 37 unchanged`` (outputs and failed when any)."""
    parts = ["%d %s" % (counts[a], a) for a in ("new", "renew", "reissue", "revoke", "resume")]
    if counts.get("outputs"):
        parts.append("%d outputs" % counts["outputs"])
    parts.append("%d unchanged" % counts[NOTHING])
    if counts.get(FAILED):
        parts.append("%d failed" % counts[FAILED])
    return "%s: %s" % (prefix, ", ".join(parts))


def render(data, prefix="Plan", hosts=None):
    """The plan: ``lines`` (per host its name, then a line per certificate; then the totals), ``text`` (the
    lines, one string) and ``totals`` (the counts). ``hosts`` (the play's hosts, in order) adds a line for
    each host without a summary (unreachable, or failed before the role's summary)."""
    lines = []
    by_host = summaries(data)
    order = [str(h) for h in hosts or []]
    order += [h for h in by_host if h not in order]
    missing = 0
    for host in order:
        lines.append("%s:" % host)
        if host not in by_host:
            missing += 1
            lines.append("  %-3s no plan: the host was unreachable or failed before the role's summary" % "?")
            continue
        lines.extend(line(e) for e in by_host[host])
    counts = totals(by_host)
    lines.append(totals_line(counts, prefix) + (", %d host(s) without a plan" % missing if missing else ""))
    return dict(lines=lines, text="\n".join(lines), totals=counts,
                hosts_without_plan=[h for h in order if h not in by_host])

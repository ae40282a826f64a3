# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate report (playbooks/report.yml, filter wotrus.pki.certificate_report): rows from what
each host read (certificate_status + certificate_report_read), urgency classes, and the three outputs --
one self-contained HTML page, JSON, and a Prometheus textfile (node_exporter's textfile collector).

Pure Python, no Ansible import, no cryptography: the hosts read the certificates; this only arranges.
Every value that reaches the HTML page is escaped (a subject is text anyone who gets a certificate
chooses); every label value of the .prom file is escaped as the exposition format says.
"""

from __future__ import annotations

import datetime
import html
import json
import math

from ansible_collections.wotrus.pki.plugins.module_utils import _role_plan as role_plan

# Urgency classes, most urgent first (the order of the counts and of the default sort).
URGENCIES = ("failed", "expired", "critical", "waiting", "warning", "ok")
CRITICAL_DAYS = 7
WARNING_DAYS = 30

# The JSON / row fields, in the order of the table's columns.
FIELDS = (
    "host", "name", "urgency", "days_left", "not_after", "not_before", "subject", "sans", "issuer", "serial",
    "key_type", "key_size", "order_id", "order_status", "pending_link", "deployed_at", "last_error",
    "due", "why", "renew_on", "path", "source", "served", "served_serial", "error",
)

METRICS = (
    ("wotrus_pki_certificate_not_after_timestamp_seconds", "gauge",
     "End of validity of the certificate (notAfter), Unix time."),
    ("wotrus_pki_certificate_days_left", "gauge", "Days until the certificate expires (negative once expired)."),
    ("wotrus_pki_certificate_renewal_due", "gauge",
     "1 when the role would order, renew, reissue or resume this certificate on its next run."),
    ("wotrus_pki_order_pending", "gauge", "1 when an order of this certificate waits (for a person or the CA)."),
    ("wotrus_pki_certificate_served_mismatch", "gauge",
     "1 when the service serves another certificate than the one deployed (only with report_check_served)."),
    ("wotrus_pki_report_host_failed", "gauge", "1 when the host could not be read (unreachable or failed)."),
    ("wotrus_pki_report_generated_timestamp_seconds", "gauge", "When the report was made, Unix time."),
)

PENDING_STATUSES = ("pending", "waiting", "needs_person", "processing", "dcv")
DONE_STATUSES = ("issued", "complete", "completed", "closed", "rejected", "revoked", "pendingrevoke")


def parse_time(value):
    """An ISO time (``2026-12-31T23:59:59Z`` and the like) as an aware UTC datetime, else None."""
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def iso(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _now(now):
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(now, (int, float)):
        return datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    return parse_time(now) or datetime.datetime.now(datetime.timezone.utc)


def _text(value):
    if value is None:
        return None
    return str(value)


def urgency(row):
    """The row's class: failed (unreadable), expired, critical (<= 7 days), waiting (an order waits for a
    person), warning (<= 30 days, or due for renewal), ok."""
    if row.get("error") or (row.get("last_error") and row.get("days_left") is None):
        return "failed"
    days = row.get("days_left")
    if days is not None and days < 0:
        return "expired"
    if days is not None and days <= CRITICAL_DAYS:
        return "critical"
    if row.get("pending_link") or (row.get("order_status") or "").lower() in PENDING_STATUSES:
        return "waiting"
    if days is None and not row.get("error"):
        return "warning" if row.get("due") not in (None, "none") else "ok"
    if days <= WARNING_DAYS or row.get("due") not in (None, "none"):
        return "warning"
    return "ok"


def make_row(host, status=None, detail=None, error=None, now=None, source="role"):
    """One row from a host's certificate_status result (``status``, may be None for an extra path),
    certificate_report_read's entry for the same certificate (``detail``) and an error text."""
    status = status or {}
    detail = detail or {}
    record = status.get("record") or {}
    now = _now(now)
    not_after = parse_time(detail.get("not_after") or status.get("not_after"))
    not_before = parse_time(detail.get("not_before") or status.get("not_before"))
    days_left = round((not_after - now).total_seconds() / 86400.0, 1) if not_after else None
    order_status = record.get("status")
    pending = record.get("order_id") if record.get("order_id") and record.get("order_id") != record.get(
        "deployed_order_id") else None
    row = dict(
        host=_text(host), name=_text(detail.get("name") or status.get("name") or (status.get("item") or {}).get("name")),
        source=source, path=_text(detail.get("path")),
        subject=_text(detail.get("subject")), sans=[str(s) for s in (detail.get("sans") or [])],
        issuer=_text(detail.get("issuer")), serial=_text(detail.get("serial") or status.get("serial")),
        not_before=iso(not_before), not_after=iso(not_after), days_left=days_left,
        key_type=_text(detail.get("key_type")), key_size=detail.get("key_size"),
        order_id=_text(pending or record.get("deployed_order_id") or record.get("order_id") or status.get("order_id")),
        order_status=_text(order_status),
        pending_link=_text(record.get("pending_link")) if pending or (order_status or "").lower() in PENDING_STATUSES
        else None,
        deployed_at=_text(record.get("deployed_at")),
        last_error=_text(detail.get("last_error") or record.get("last_error")),
        due=_text(status.get("due")), why=_text(status.get("why") or status.get("plan")),
        renew_on=_text(status.get("renew_on")),
        served=detail.get("served"), served_serial=_text(detail.get("served_serial")),
        error=_text(error or detail.get("error") or (status.get("msg") if status.get("failed") else None)),
    )
    # The plan of a certificate the role manages, as a check-mode run of site.yml prints it.
    row["plan"] = role_plan.fields(status) if status.get("due") is not None and not status.get("failed") else None
    row["urgency"] = urgency(row)
    return row


def rows_from_hosts(hosts, now=None):
    """Rows of every host. ``hosts`` maps a host name to what report.yml collected:
    ``{"error": str}`` for a host that failed or was unreachable, else ``{"status": [...], "details": [...],
    "extra": [...]}`` (certificate_status loop results, certificate_report_read's ``certificates`` and
    ``extra``)."""
    now = _now(now)
    rows = []
    for host in sorted(hosts or {}):
        entry = hosts[host] or {}
        if entry.get("error") and not entry.get("status") and not entry.get("details"):
            rows.append(make_row(host, detail=dict(name=None), error=entry["error"], now=now, source="host"))
            continue
        details = {d.get("name"): d for d in entry.get("details") or []}
        for st in entry.get("status") or []:
            name = st.get("name") or (st.get("item") or {}).get("name")
            rows.append(make_row(host, status=st, detail=dict(details.get(name) or {}, name=name), now=now))
        for d in entry.get("extra") or []:
            rows.append(make_row(host, detail=d, now=now, source="extra"))
    return rows


def summary(rows):
    counts = dict((u, 0) for u in URGENCIES)
    for row in rows:
        counts[row["urgency"]] = counts.get(row["urgency"], 0) + 1
    return counts


def build(hosts, now=None):
    """The report as one dict: when, counts by urgency, rows (most urgent first), waiting orders, failures."""
    now = _now(now)
    rows = rows_from_hosts(hosts, now)
    rank = dict((u, i) for i, u in enumerate(URGENCIES))
    rows.sort(key=lambda r: (rank[r["urgency"]], r["days_left"] if r["days_left"] is not None else -1e9,
                             r["host"] or "", r["name"] or "", r["path"] or ""))
    return dict(
        generated=iso(now), counts=summary(rows), total=len(rows), rows=rows,
        waiting=[r for r in rows if r["pending_link"] or r["urgency"] == "waiting"],
        failures=[r for r in rows if r["urgency"] == "failed"],
        served_mismatch=[r for r in rows if r["served"] is False],
    )


# -- JSON ---------------------------------------------------------------------------
def to_json(report):
    return json.dumps(report, indent=1, sort_keys=True) + "\n"


# -- Prometheus ---------------------------------------------------------------------
def prom_label(value):
    """A label value as the text exposition format wants it: backslash, double quote, newline escaped."""
    return str("" if value is None else value).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _labels(**kw):
    return "{" + ",".join('%s="%s"' % (k, prom_label(v)) for k, v in sorted(kw.items())) + "}"


def _num(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def to_prom(report):
    """node_exporter textfile collector format: HELP and TYPE once per metric, one sample per host and
    certificate (labels host, certificate, and path for an extra file)."""
    samples = dict((m[0], []) for m in METRICS)
    failed_hosts = {}
    for r in report["rows"]:
        if r["source"] == "host":
            failed_hosts[r["host"]] = 1
            continue
        failed_hosts.setdefault(r["host"], 0)
        labels = dict(host=r["host"], certificate=r["name"] or r["path"] or "")
        if r["source"] == "extra":
            labels["path"] = r["path"] or ""
        lab = _labels(**labels)
        if r["not_after"]:
            stamp = parse_time(r["not_after"]).timestamp()
            samples["wotrus_pki_certificate_not_after_timestamp_seconds"].append((lab, _num(int(stamp))))
        if r["days_left"] is not None:
            samples["wotrus_pki_certificate_days_left"].append((lab, _num(float(r["days_left"]))))
        if r["source"] == "role":
            samples["wotrus_pki_certificate_renewal_due"].append(
                (lab, _num(0 if r["due"] in (None, "none", "outputs") else 1)))
            samples["wotrus_pki_order_pending"].append((lab, _num(1 if r["urgency"] == "waiting" or r["pending_link"]
                                                                  else 0)))
        if r["served"] is not None:
            samples["wotrus_pki_certificate_served_mismatch"].append((lab, _num(0 if r["served"] else 1)))
    for host, bad in sorted(failed_hosts.items()):
        samples["wotrus_pki_report_host_failed"].append((_labels(host=host), _num(bad)))
    gen = parse_time(report["generated"])
    samples["wotrus_pki_report_generated_timestamp_seconds"].append(("", _num(int(gen.timestamp()))))
    out = []
    for name, kind, text in METRICS:
        out.append("# HELP %s %s" % (name, text))
        out.append("# TYPE %s %s" % (name, kind))
        for lab, value in samples[name]:
            out.append("%s%s %s" % (name, lab, value))
    return "\n".join(out) + "\n"


# -- HTML ---------------------------------------------------------------------------
def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


COLORS = dict(failed="#b0006e", expired="#c62828", critical="#ef6c00", waiting="#1565c0", warning="#f9a825",
              ok="#2e7d32")
BACKGROUNDS = dict(failed="rgb(248, 215, 234)", expired="rgb(255, 205, 210)", critical="rgb(255, 224, 178)",
                   waiting="rgb(187, 222, 251)", warning="rgb(255, 249, 196)", ok="rgb(255, 255, 255)")

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
.counts{display:flex;gap:.6em;flex-wrap:wrap;margin:.8em 0}
.count{border-radius:6px;padding:.4em .9em;color:#fff;min-width:6em;cursor:pointer;border:0;font:inherit;text-align:left}
.count b{display:block;font-size:1.5em}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee;cursor:pointer;position:sticky;top:0;user-select:none;white-space:nowrap}
th.asc:after{content:" \\25B2"}th.desc:after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td{white-space:nowrap}td.long{white-space:normal;min-width:12em;max-width:28em;overflow-wrap:anywhere}
#filter{padding:4px 8px;width:24em;margin-right:1em}#more{margin:.6em 0;padding:4px 10px}
.muted{color:#666}svg text{font-size:10px}
""" + "".join("tr.u-%s{background:%s}.count.u-%s{background:%s}.dot-%s{fill:%s}\n"
              % (u, BACKGROUNDS[u], u, COLORS[u], u, COLORS[u]) for u in URGENCIES)

# The table is built by this script from the rows embedded as JSON (a page of 5,000 certificates stays small and
# fast): sorting, filtering, the count buttons, and at most LIMIT rows drawn until "Show all" is clicked.
# Cells are set with textContent: no value is ever parsed as HTML. No external script, no network.
JS = r"""
(function(){
var D=JSON.parse(document.getElementById('data').textContent),S=D.s,C=D.c,U=D.u,LIMIT=D.limit;
var t=document.getElementById('certs'),tb=t.tBodies[0],f=document.getElementById('filter');
var shown=document.getElementById('shown'),more=document.getElementById('more'),only=null,all=false;
var NUM=C.indexOf('days_left'),URG=C.indexOf('urgency');
var rows=D.r.map(function(r,i){var v=r.map(function(x,j){return j===NUM?x:(typeof x==='number'?S[x]:x);});
 return {v:v,i:i,u:v[URG],t:v.join(' ').toLowerCase()};});
var view=rows;
function draw(){var q=f.value.toLowerCase();
 view=rows.filter(function(r){return (!q||r.t.indexOf(q)>=0)&&(!only||r.u===only);});
 var n=all?view.length:Math.min(view.length,LIMIT),frag=document.createDocumentFragment();
 for(var k=0;k<n;k++){var r=view[k],tr=document.createElement('tr');tr.className='u-'+r.u;tr.setAttribute('data-urgency',r.u);
  for(var j=0;j<r.v.length;j++){var td=document.createElement('td');var x=r.v[j];
   td.textContent=(x===null||x===undefined)?'':String(x);if(D.cls[j])td.className=D.cls[j];tr.appendChild(td);}
  frag.appendChild(tr);}
 tb.textContent='';tb.appendChild(frag);shown.textContent=view.length;
 more.style.display=(n<view.length)?'':'none';more.textContent='Show all '+view.length+' (drawn: '+n+')';}
f.addEventListener('input',draw);
more.addEventListener('click',function(){all=true;draw();});
Array.prototype.forEach.call(document.querySelectorAll('.count'),function(b){
 b.addEventListener('click',function(){var u=b.getAttribute('data-urgency');only=(only===u)?null:u;draw();});});
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,col){
 th.addEventListener('click',function(){
  var dir=th.classList.contains('asc')?-1:1;
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.classList.remove('asc','desc');});
  th.classList.add(dir===1?'asc':'desc');
  function key(r){var v=r.v[col];if(col===URG)return U.indexOf(v);if(col===NUM)return (v===null?-Infinity:v);
   return String(v===null?'':v).toLowerCase();}
  var keyed=rows.map(function(r){return [key(r),r.i,r];});
  keyed.sort(function(a,b){return a[0]<b[0]?-dir:a[0]>b[0]?dir:a[1]-b[1];});
  rows=keyed.map(function(k){return k[2];});draw();});});
draw();
})();
"""

# Columns whose values repeat across a fleet: kept once in the page's string table.
INTERNED = frozenset(("host", "urgency", "issuer", "key", "order_status", "due", "why", "served"))
ROW_LIMIT = 1000


def _json_for_script(value):
    """JSON safe inside <script type="application/json">: no <, >, & (so no </script>, no <!--)."""
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def table_data(rows, limit=ROW_LIMIT):
    """The table as the page's script reads it: column fields, a string table, rows of cells (a cell of an
    interned column is an index into the string table)."""
    strings, index = [""], {"": 0}
    out = []
    for r in rows:
        cells = []
        for _header, field, numeric, _long in COLUMNS:
            value = r.get("days_left") if numeric else _cell(r, field)
            if numeric:
                cells.append(value)
                continue
            value = "" if value is None else str(value)
            if field in INTERNED or value == "":
                if value not in index:
                    index[value] = len(strings)
                    strings.append(value)
                cells.append(index[value])
            else:
                cells.append(value)
        out.append(cells)
    return dict(c=[c[1] for c in COLUMNS], s=strings, r=out, u=list(URGENCIES), limit=limit,
                cls=["num" if c[2] else ("long" if c[3] else "") for c in COLUMNS])


COLUMNS = (
    # (header, field, numeric, long text)
    ("Host", "host", False, False), ("Certificate", "name", False, False), ("Urgency", "urgency", False, False),
    ("Days left", "days_left", True, False), ("Not after", "not_after", False, False),
    ("Subject", "subject", False, True), ("SANs", "sans", False, True), ("Issuer", "issuer", False, True),
    ("Serial", "serial", False, True), ("Key", "key", False, False), ("Order", "order_id", False, True),
    ("Order status", "order_status", False, False), ("Deployed", "deployed_at", False, False),
    ("Due", "due", False, False), ("Why / plan", "why", False, True), ("Renews on", "renew_on", False, False),
    ("Served", "served", False, False), ("Error", "error", False, True),
)


def _cell(row, field):
    if field == "sans":
        return ", ".join(row["sans"] or [])
    if field == "key":
        return " ".join(str(x) for x in (row.get("key_type"), row.get("key_size")) if x)
    if field == "served":
        return "" if row["served"] is None else ("same" if row["served"] else "served differs from deployed")
    if field == "error":
        return row.get("error") or row.get("last_error") or ""
    if field == "name":
        return row.get("name") or row.get("path") or ""
    value = row.get(field)
    return "" if value is None else value


def timeline_svg(rows, now, width=900, height=None, days=400):
    """An inline SVG: each certificate a dot at its notAfter on a line from (now - 30 days) to now + days,
    in its urgency's colour, one lane per urgency. Dots beyond the range sit at its edges."""
    lanes = [u for u in URGENCIES if u != "failed"]
    lane_h, left, right = 22, 70, 20
    height = height or lane_h * len(lanes) + 40
    start = now - datetime.timedelta(days=30)
    span = float(days + 30)
    scale = (width - left - right) / span
    parts = ['<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'role="img" aria-label="Expiry timeline">' % (width, height, width, height)]
    for i, u in enumerate(lanes):
        y = 20 + i * lane_h
        parts.append('<text x="4" y="%d">%s</text><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>'
                     % (y + 4, esc(u), left, y, width - right, y))
    x_now = left + 30 * scale
    now_line = (x_now, x_now, height - 18, x_now + 2, height - 20)
    parts.append('<line x1="%.1f" y1="8" x2="%.1f" y2="%d" stroke="#c62828" stroke-dasharray="3,3"/>'
                 '<text x="%.1f" y="%d" fill="#c62828">now</text>' % now_line)
    for d in range(0, days + 1, 60):
        x = left + (d + 30) * scale
        label = (now + datetime.timedelta(days=d)).strftime("%Y-%m-%d")
        tick = (x, height - 22, x, height - 16, x, height - 4, esc(label))
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/><text x="%.1f" y="%d" '
                     'text-anchor="middle" class="muted">%s</text>' % tick)
    dots = {}
    for r in rows:
        when = parse_time(r["not_after"])
        if not when or r["urgency"] not in lanes:
            continue
        d = (when - start).total_seconds() / 86400.0
        x = int(round(left + max(0.0, min(span, d)) * scale))
        dot = dots.setdefault((r["urgency"], x), [0, r])
        dot[0] += 1
    for (u, x), (count, first) in sorted(dots.items()):
        y = 20 + lanes.index(u) * lane_h
        what = ("%s %s" % (first["host"], first["name"] or first["path"])) if count == 1 else "%d certificates" % count
        parts.append('<circle class="dot-%s" cx="%d" cy="%d" r="%.1f"><title>%s: %s</title></circle>'
                     % (u, x, y, min(8.0, 3.0 + math.log(count, 2)), esc(what), esc(first["not_after"][:10])))
    parts.append("</svg>")
    return "".join(parts)


def to_html(report, title="Certificate report", limit=ROW_LIMIT):
    """One self-contained page: inline CSS, inline JS and an inline SVG; nothing fetched."""
    now = parse_time(report["generated"])
    rows = report["rows"]
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
           'script-src \'unsafe-inline\'; img-src data:">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>%s</title><style>%s</style></head><body>" % (esc(title), CSS),
           "<h1>%s</h1><div class=\"muted\">Made %s from %d certificate(s); no API call.</div>"
           % (esc(title), esc(report["generated"]), len(rows)),
           '<div class="counts" id="counts">']
    for u in URGENCIES:
        out.append('<button class="count u-%s" data-urgency="%s" type="button"><b>%d</b>%s</button>'
                   % (u, u, report["counts"].get(u, 0), esc(u)))
    out.append("</div>")
    out.append("<h2>Expiry timeline</h2>")
    out.append(timeline_svg(rows, now))
    out.append("<h2>Orders waiting for a person</h2>")
    if report["waiting"]:
        out.append("<ul id=\"waiting\">")
        for r in report["waiting"]:
            link = r["pending_link"]
            safe = link if link and link.lower().startswith(("https://", "http://")) else None
            out.append("<li>%s %s, order %s (%s)%s</li>" % (
                esc(r["host"]), esc(r["name"]), esc(r["order_id"]), esc(r["order_status"]),
                (': <a href="%s" rel="noopener noreferrer">%s</a>' % (esc(safe), esc(safe))) if safe
                else (": " + esc(link) if link else "")))
        out.append("</ul>")
    else:
        out.append('<p class="muted" id="waiting">None.</p>')
    out.append("<h2>Failures</h2>")
    if report["failures"]:
        out.append("<ul id=\"failures\">")
        for r in report["failures"]:
            out.append("<li>%s %s: %s</li>" % (esc(r["host"]), esc(r["name"] or r["path"] or ""),
                                               esc(r["error"] or r["last_error"])))
        out.append("</ul>")
    else:
        out.append('<p class="muted" id="failures">None.</p>')
    out.append('<h2>Certificates</h2><p><input id="filter" type="search" placeholder="Filter (any text)" '
               'aria-label="Filter"> <span id="shown">%d</span> of %d match</p>' % (len(rows), len(rows)))
    out.append('<table id="certs"><thead><tr>')
    for header, field, numeric, _long in COLUMNS:
        out.append('<th data-field="%s"%s>%s</th>' % (field, ' data-type="num"' if numeric else "", esc(header)))
    out.append('</tr></thead><tbody></tbody></table><button id="more" type="button" style="display:none"></button>')
    out.append("<noscript><p>The table needs JavaScript; the same rows are in the report's JSON file.</p></noscript>")
    out.append('<script type="application/json" id="data">%s</script>' % _json_for_script(table_data(rows, limit)))
    out.append("<script>%s</script></body></html>\n" % JS)
    return "".join(out)


def render(hosts, fmt, now=None, title="Certificate report"):
    report = build(hosts, now)
    if fmt == "json":
        return to_json(report)
    if fmt == "prom":
        return to_prom(report)
    if fmt == "html":
        return to_html(report, title)
    if fmt == "data":
        return report
    raise ValueError("format must be one of html, json, prom, data, not %r" % (fmt,))

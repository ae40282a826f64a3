# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrency: 20 module runs at once per operation, one key or one order,
against one sandbox: one order, no failure, exactly one ``changed``."""

from __future__ import annotations

import concurrent.futures
import os
import tempfile

import lib

PARALLEL = 20
CN = "conc.example.com"
OPS = ("create", "cancel", "revoke", "reissue", "fetch")
FAST_OPS = ("create", "cancel")


def run_op(api, op, work):
    key = lib.new_key()
    if op == "create":
        api.reset()
        module, args, oid = "wotrus_order", dict(product_id=lib.DV, common_name=CN, csr=lib.csr(CN, key=key),
                                                 organization=dict(org_name="Concurrency Co", country_code="CN")), None
    elif op == "cancel":
        api.reset(delays={"default": 3600})
        oid = api.create(CN)
        module, args = "wotrus_order", dict(state="absent", order_id=oid)
    else:
        api.reset()
        oid = api.issued(cn=CN)
        if op == "revoke":
            proof = lib.write(os.path.join(work, "proof.pdf"), lib.PDF)
            module, args = "wotrus_revoke", dict(order_id=oid, reason="concurrency test", proof_path=proof)
        elif op == "reissue":
            module, args = "wotrus_reissue", dict(order_id=oid, csr=lib.csr(CN, key=key), reason="concurrency test")
        else:
            module, args = "wotrus_certificate", dict(order_id=oid, cert_path=os.path.join(work, "cert.pem"))
    args.update(lib.connection(api.sb))
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda i: lib.run_module(module, args, tempfile.mkdtemp(dir=work)), range(PARALLEL)))
    orders = api.orders()
    failures = [o for o in outcomes if o.failed]
    changed = sum(1 for o in outcomes if not o.failed and o.result.get("changed"))
    created_true = sum(1 for o in outcomes if not o.failed and o.result.get("created"))
    if op == "create":
        made = len([o for o in orders if o["op"] == "create"])
        state = "%d order(s)" % made
        orders_ok = made == 1
    elif op == "reissue":
        made = len([o for o in orders if o["op"] == "reissue"])
        state = "%d reissued order(s)" % made
        orders_ok = made == 1
    else:
        status = api.order(oid)["status"]
        state = "status %s, %d order(s)" % (status, len(orders))
        orders_ok = len(orders) == 1 and status == {"cancel": "closed", "revoke": "pendingRevoke",
                                                    "fetch": "issued"}[op] or (op == "revoke" and status == "revoked")
    problems = []
    if not orders_ok:
        problems.append("sandbox: " + state)
    if failures:
        problems.append("%d of %d runs failed" % (len(failures), PARALLEL))
    if changed != 1:
        problems.append("%d runs said changed (want 1)" % changed)
    if op == "create" and created_true != 1:
        problems.append("%d runs said created: true (want 1)" % created_true)
    tracebacks = sum(1 for o in outcomes if o.traceback)
    if tracebacks:
        problems.append("%d tracebacks" % tracebacks)
    sample = "; ".join(sorted(set(o.short(200) for o in failures))[:3])
    return dict(op=op, state=state, failures=len(failures), changed=changed, created=created_true,
                problems=problems, sample=sample, counts=api.counts())


def run(section, full, work):
    sb = lib.start_sandboxes(1, work)[0]
    rows, results = [], []
    try:
        api = lib.Api(sb)
        for op in OPS if full else FAST_OPS:
            d = tempfile.mkdtemp(dir=work, prefix=op + "-")
            try:
                r = run_op(api, op, d)
            except Exception as exc:  # pylint: disable=broad-except
                r = dict(op=op, state="", failures=0, changed=0, created=0, problems=["harness error: %r" % exc],
                         sample="", counts={})
            results.append(r)
            rows.append([op, PARALLEL, r["state"], r["failures"], r["changed"],
                         r["created"] if op == "create" else "",
                         "ok" if not r["problems"] else "**FAIL**: " + "; ".join(r["problems"])])
    finally:
        sb.cleanup()
    section.add(lib.md_table(["operation", "parallel runs", "sandbox after", "failed runs", "changed",
                              "created: true", "result"], rows))
    for r in results:
        section.check(not r["problems"], "20 x %s" % r["op"], "; ".join(r["problems"]) +
                      (" -- e.g.: " + r["sample"] if r["sample"] else ""))

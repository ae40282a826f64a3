# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The management API: plain HTTP, JSON, loopback only, no authentication.

What a test needs to see and steer: reset, roots and intermediates, orders and
idempotence counts, call counts, forced states, scripted faults, CRL and
certificate status, push and notification logs, runtime knobs.
"""

from __future__ import annotations

import json
import re
import time

from aiohttp import web

from wotrus_sandbox import config
from wotrus_sandbox import dcv
from wotrus_sandbox import states
from wotrus_sandbox.faults import ENDPOINTS, FaultError
from wotrus_sandbox.sandbox import SANDBOX

STATUS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _json(data, status=200):
    return web.Response(status=status, text=json.dumps(data, ensure_ascii=False, indent=1),
                        content_type="application/json", charset="utf-8")


def _error(msg, status=400):
    return _json({"error": msg}, status)


async def _body(request):
    try:
        raw = await request.read()
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": "body is not JSON: %s" % exc}),
                                 content_type="application/json") from None


def order_view(sb, order):
    certs = sb.store.certs_of(order["id"])
    return {
        "id": order["id"],
        "order_number": order["order_number"],
        "op": order["op"],
        "idempotence_id": order["idempotence_id"],
        "product_id": order["product_id"],
        "kind": order["kind"],
        "status": order["status"],
        "path": order["path"],
        "next_due": order["next_due"],
        "is_pay": order["is_pay"],
        "common_name": order["common_name"],
        "hosts": order["hosts"],
        "month": order["month"],
        "created": order["created"],
        "issued_at": order["issued_at"],
        "revoked_at": order["revoked_at"],
        "reissued_from": order["reissued_from"],
        "reissued_to": order["reissued_to"],
        "bound_order": order["bound_order"],
        "revoke_on_issue": order["revoke_on_issue"],
        "revoke_reason": order["revoke_reason"],
        "cancel_reason": order["cancel_reason"],
        "serial": certs[-1]["serial"] if certs else None,
        "certificates": [{"serial": c["serial"], "usage": c["usage"], "not_after": c["not_after"],
                          "revoked_at": c["revoked_at"], "revoke_reason": c["revoke_reason"]} for c in certs],
        "organization": order["request"].get("org", {}),
        "documents": order["request"].get("documents", []),
        # backend: sectigo orders: how pendingDCV is left, and per name {state, checked_at, detail, url, attempts}
        "dcv_mode": config.dcv_mode(sb.settings, sb.product(order["product_id"]))
        if dcv.is_sectigo(sb, order) else None,
        "dcv": sb.store.dcv_of(order["id"]),
    }


async def index(request):
    return _json({"endpoints": sorted(
        "%s %s" % (r.method, r.resource.canonical) for r in request.app.router.routes() if r.method != "HEAD")})


async def reset(request):
    sb = request.app[SANDBOX]
    sb.store.reset()
    sb.faults.clear()
    dcv.forget_all(sb)
    return _json({"reset": True})


async def roots(request):
    sb = request.app[SANDBOX]
    return web.Response(text=sb.ca.roots_pem(sb.settings["cross_sign"]), content_type="application/x-pem-file")


async def sm2_roots(request):
    sb = request.app[SANDBOX]
    return web.Response(text=sb.ca.sm2_root_pem, content_type="application/x-pem-file")


async def intermediates(request):
    sb = request.app[SANDBOX]
    return web.Response(text=sb.ca.intermediates_pem(sb.settings["cross_sign"]),
                        content_type="application/x-pem-file")


async def orders(request):
    sb = request.app[SANDBOX]
    states.advance_due(sb)
    return _json([order_view(sb, o) for o in sb.store.orders()])


async def order(request):
    sb = request.app[SANDBOX]
    o = states.advance(sb, request.match_info["id"])
    if o is None:
        return _error("no such order", 404)
    return _json(order_view(sb, o))


async def force(request):
    sb = request.app[SANDBOX]
    body = await _body(request)
    if not isinstance(body, dict) or not body or set(body) - {"status", "is_pay"}:
        return _error('body: {"status": "<state>", "is_pay": 0|1|2} (one or both)')
    o = sb.store.get_order(request.match_info["id"])
    if o is None:
        return _error("no such order", 404)
    status = body.get("status")
    if status is not None and (not isinstance(status, str) or not STATUS_RE.match(status)):
        return _error("status must be a state name such as issued, pendingDCV, rejected")
    is_pay = body.get("is_pay")
    if is_pay is not None and is_pay not in (0, 1, 2):
        return _error("is_pay must be 0, 1 or 2")
    events = []
    with sb.store.tx():
        o = sb.store.get_order(o["id"])
        if is_pay is not None:
            states.set_paid(sb, o, is_pay)
        if status is not None:
            states.enter(sb, o, status, time.time(), events)
    sb.dispatch(events)
    return _json(order_view(sb, states.advance(sb, o["id"])))


async def idempotence(request):
    sb = request.app[SANDBOX]
    return _json(sb.store.idempotence_counts())


async def counts(request):
    sb = request.app[SANDBOX]
    counted = {endpoint: 0 for endpoint in ENDPOINTS}
    counted["total"] = 0
    counted.update(sb.store.counts())
    return _json(counted)


async def add_fault(request):
    sb = request.app[SANDBOX]
    body = await _body(request)
    specs = body if isinstance(body, list) else [body]
    try:
        added = [sb.faults.add(s) for s in specs]
    except FaultError as exc:
        return _error(str(exc))
    return _json(added if isinstance(body, list) else added[0])


async def list_faults(request):
    sb = request.app[SANDBOX]
    return _json(sb.faults.list())


async def clear_faults(request):
    sb = request.app[SANDBOX]
    sb.faults.clear()
    return _json({"cleared": True})


async def crl(request):
    sb = request.app[SANDBOX]
    return web.Response(text=sb.ca.crl_pem(sb.store.revoked_serials()), content_type="application/x-pem-file")


async def cert_status(request):
    sb = request.app[SANDBOX]
    raw = request.match_info["serial"].lower().replace(":", "")
    if raw.startswith("0x"):
        raw = raw[2:]
    try:
        serial = format(int(raw, 16), "x")
    except ValueError:
        return _error("serial must be hexadecimal")
    states.advance_due(sb)
    c = sb.store.cert_status(serial)
    if c is None:
        return _json({"serial": serial, "status": "unknown"})
    return _json({"serial": serial, "status": "revoked" if c["revoked_at"] else "good",
                  "order_id": c["order_id"], "revoked_at": c["revoked_at"], "reason": c["revoke_reason"]})


async def push_log(request):
    sb = request.app[SANDBOX]
    return _json(sb.store.push_log())


async def notifications(request):
    sb = request.app[SANDBOX]
    return _json(sb.store.notifications())


async def get_config(request):
    sb = request.app[SANDBOX]
    return _json(sb.settings)


async def set_config(request):
    sb = request.app[SANDBOX]
    body = await _body(request)
    if not isinstance(body, dict):
        return _error("body must be an object of settings")
    try:
        new = config.merge(sb.settings, body)
    except config.ConfigError as exc:
        return _error(str(exc))
    sb.settings.clear()
    sb.settings.update(new)
    sb.write_roots()
    states.reschedule_dcv(sb)
    return _json(sb.settings)


def create_mgmt_app(sb):
    """The management application on ``sb`` (plain HTTP, loopback only)."""
    app = web.Application()
    app[SANDBOX] = sb
    app.router.add_get("/", index)
    app.router.add_post("/reset", reset)
    app.router.add_get("/roots", roots)
    app.router.add_get("/sm2-roots", sm2_roots)
    app.router.add_get("/intermediates", intermediates)
    app.router.add_get("/orders", orders)
    app.router.add_get("/orders/{id}", order)
    app.router.add_post("/orders/{id}/state", force)
    app.router.add_get("/idempotence", idempotence)
    app.router.add_get("/counts", counts)
    app.router.add_post("/faults", add_fault)
    app.router.add_get("/faults", list_faults)
    app.router.add_delete("/faults", clear_faults)
    app.router.add_get("/crl", crl)
    app.router.add_get("/status/{serial}", cert_status)
    app.router.add_get("/push-log", push_log)
    app.router.add_get("/notifications", notifications)
    app.router.add_get("/config", get_config)
    app.router.add_post("/config", set_config)
    return app

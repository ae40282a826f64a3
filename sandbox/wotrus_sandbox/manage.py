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

from wotrus_sandbox import config as C
from wotrus_sandbox import dcv
from wotrus_sandbox import states
from wotrus_sandbox.faults import ENDPOINTS, FaultError

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
        "dcv_mode": C.dcv_mode(sb.settings, sb.settings["products"].get(order["product_id"]))
        if dcv.is_sectigo(sb, order) else None,
        "dcv": sb.store.dcv_of(order["id"]),
    }


def create_mgmt_app(sb):
    routes = web.RouteTableDef()

    @routes.get("/")
    async def index(request):
        return _json({"endpoints": sorted(
            "%s %s" % (r.method, r.resource.canonical) for r in request.app.router.routes() if r.method != "HEAD")})

    @routes.post("/reset")
    async def reset(request):
        sb.store.reset()
        sb.faults.clear()
        dcv.forget_all(sb)
        return _json({"reset": True})

    @routes.get("/roots")
    async def roots(request):
        return web.Response(text=sb.ca.roots_pem(sb.settings["cross_sign"]), content_type="application/x-pem-file")

    @routes.get("/intermediates")
    async def intermediates(request):
        return web.Response(text=sb.ca.intermediates_pem(sb.settings["cross_sign"]),
                            content_type="application/x-pem-file")

    @routes.get("/orders")
    async def orders(request):
        states.advance_due(sb)
        return _json([order_view(sb, o) for o in sb.store.orders()])

    @routes.get("/orders/{id}")
    async def order(request):
        o = states.advance(sb, request.match_info["id"])
        if o is None:
            return _error("no such order", 404)
        return _json(order_view(sb, o))

    @routes.post("/orders/{id}/state")
    async def force(request):
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

    @routes.get("/idempotence")
    async def idempotence(request):
        return _json(sb.store.idempotence_counts())

    @routes.get("/counts")
    async def counts(request):
        c = {e: 0 for e in ENDPOINTS}
        c["total"] = 0
        c.update(sb.store.counts())
        return _json(c)

    @routes.post("/faults")
    async def add_fault(request):
        body = await _body(request)
        specs = body if isinstance(body, list) else [body]
        try:
            added = [sb.faults.add(s) for s in specs]
        except FaultError as exc:
            return _error(str(exc))
        return _json(added if isinstance(body, list) else added[0])

    @routes.get("/faults")
    async def list_faults(request):
        return _json(sb.faults.list())

    @routes.delete("/faults")
    async def clear_faults(request):
        sb.faults.clear()
        return _json({"cleared": True})

    @routes.get("/crl")
    async def crl(request):
        return web.Response(text=sb.ca.crl_pem(sb.store.revoked_serials()), content_type="application/x-pem-file")

    @routes.get("/status/{serial}")
    async def cert_status(request):
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

    @routes.get("/push-log")
    async def push_log(request):
        return _json(sb.store.push_log())

    @routes.get("/notifications")
    async def notifications(request):
        return _json(sb.store.notifications())

    @routes.get("/config")
    async def get_config(request):
        return _json(sb.settings)

    @routes.post("/config")
    async def set_config(request):
        body = await _body(request)
        if not isinstance(body, dict):
            return _error("body must be an object of settings")
        try:
            new = C.merge(sb.settings, body)
        except C.ConfigError as exc:
            return _error(str(exc))
        sb.settings.clear()
        sb.settings.update(new)
        sb.write_roots()
        states.reschedule_dcv(sb)
        return _json(sb.settings)

    app = web.Application()
    app.add_routes(routes)
    return app


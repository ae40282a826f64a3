# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every API request goes through: count, log, token check, scripted faults.

The Sectigo and 今通 sub-apps mounted under ``/sectigo`` and ``/jintong`` pass
straight through (they have their own authentication and are not counted).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from aiohttp import web

from wotrus_sandbox.answers import envelope
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.faults import ENDPOINTS
from wotrus_sandbox.sandbox import PENDING_LINK_PATH, SANDBOX

log = logging.getLogger("wotrus_sandbox.api")

SUB_APP_PREFIXES = ("/sectigo", "/jintong")
# The counter (GET /counts) of the calls answered 429 by the rate_limit setting.
RATE_LIMITED = "429 rate_limit"


def endpoint_of(request):
    """``"POST /v1/Order/Create"``: the method and the route's pattern, or None when nothing matched."""
    match_info = request.match_info
    if getattr(match_info, "http_exception", None) is not None:
        return None
    try:
        canonical = match_info.route.resource.canonical
    except AttributeError:
        return None
    return "%s %s" % (request.method, canonical)


def sub_app_path(path):
    return any(path == prefix or path.startswith(prefix + "/") for prefix in SUB_APP_PREFIXES)


@web.middleware
async def api_middleware(request, handler):
    if sub_app_path(request.path):
        return await handler(request)
    sb = request.config_dict[SANDBOX]
    endpoint = endpoint_of(request)
    name = endpoint if endpoint in ENDPOINTS else (endpoint or "%s (no route)" % request.method)
    sb.store.count(name)
    sb.store.count("total")
    request_id = request.headers.get(protocol.REQUEST_ID_HEADER, "-")
    started = time.monotonic()
    status = None
    try:
        if endpoint == "GET " + PENDING_LINK_PATH:
            resp = await handler(request)
        elif (wait := sb.rate_limited()) is not None:
            sb.store.count(RATE_LIMITED)
            resp = web.Response(status=429, text="Too Many Requests", content_type="text/plain",
                                headers={"Retry-After": str(wait)})
        elif not sb.token_ok(request.headers.get(protocol.TOKEN_HEADER)):
            resp = web.Response(status=401)  # empty body, as the texts say
        elif endpoint in ENDPOINTS and (fault := sb.faults.take(endpoint)) is not None:
            resp = await apply_fault(sb, request, handler, endpoint, fault)
        else:
            resp = await handler(request)
        status = resp.status if resp is not None else "dropped"
        return resp
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = "connection dropped"
        raise
    finally:
        log.info("%s %s RequestID=%s -> %s (%.0f ms)", request.method, request.path_qs, request_id, status,
                 (time.monotonic() - started) * 1000)


def _drop(request):
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError()


async def _run_slow(request, handler, delay, request_id):
    await asyncio.sleep(delay)
    try:
        return await handler(request)
    finally:
        if request.transport is None or request.transport.is_closing():
            log.info("slow fault: RequestID=%s executed after %g s; the client had gone", request_id, delay)


async def apply_fault(sb, request, handler, endpoint, fault):
    kind = fault["kind"]
    request_id = request.headers.get(protocol.REQUEST_ID_HEADER, "-")
    log.info("fault %s on %s (RequestID=%s)", kind, endpoint, request_id)
    if kind == "slow":
        # The request takes effect even when the client gives up while it waits: its body is read
        # now (a closed connection cannot be read later), and the wait and the handler run as a task
        # that the client going away (or aiohttp cancelling the handler) does not stop.
        if request.can_read_body:
            await request.read()
        task = asyncio.get_running_loop().create_task(_run_slow(request, handler, fault["delay"], request_id))
        sb.background.add(task)
        task.add_done_callback(sb.background.discard)
        return await asyncio.shield(task)
    if fault["execute"]:
        try:
            await handler(request)
        except web.HTTPException:
            pass
    if kind in ("reset", "commit_then_drop"):
        _drop(request)
    headers = {}
    if fault.get("retry_after") is not None:
        retry_after = fault["retry_after"]
        headers["Retry-After"] = str(int(retry_after) if float(retry_after).is_integer() else retry_after)
    if kind == "http_500":
        return web.Response(status=500, text=json.dumps({"Message": "An error has occurred."}),
                            content_type="application/json", headers=headers)
    if kind == "http_503":
        return web.Response(status=503, text="<html><body><h1>503 Service Unavailable</h1></body></html>",
                            content_type="text/html", headers=headers)
    if kind == "http_429":
        return web.Response(status=429, text="Too Many Requests", content_type="text/plain", headers=headers)
    if kind == "malformed_json":
        return web.Response(status=200, text='{"isSuccess": true, "errorMsg": "", "data": {"orderId": "',
                            content_type="application/json")
    if kind == "is_success_false":
        return envelope(sb, endpoint, error=fault["error_msg"])
    raise AssertionError(kind)

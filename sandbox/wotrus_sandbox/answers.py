# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The envelope every API answer wears, and the strict reading of request bodies."""

from __future__ import annotations

import json

from aiohttp import web

from wotrus_sandbox import validate


def envelope(sb, endpoint, data=None, error=None, success_msg="", http_status=200):
    """``{isSuccess, errorMsg, successMsg, data, page}``: ``data`` on success, ``errorMsg`` on a refusal."""
    body = {
        "isSuccess": error is None,
        "errorMsg": error if error is not None else "",
        "successMsg": "" if error is not None else success_msg,
        "data": data if error is None else None,
        "page": sb.page(endpoint),
    }
    return web.Response(status=http_status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json", charset="utf-8")


def order_not_found(sb, endpoint, order_id):
    return envelope(sb, endpoint, error="order %s not found" % order_id.strip())


def _error_body(message):
    return json.dumps({"isSuccess": False, "errorMsg": message, "successMsg": "", "data": None, "page": None},
                      ensure_ascii=False)


async def read_body(request):
    """The JSON object of a POST, keys lower-cased: 415 unless application/json, 400 unless an object."""
    ctype = request.headers.get("Content-Type", "")
    if ctype.split(";")[0].strip().lower() != "application/json":
        raise web.HTTPUnsupportedMediaType(text=_error_body("Content-Type must be application/json"),
                                           content_type="application/json")
    raw = await request.read()
    try:
        return validate.parse_json_object(raw)
    except validate.Invalid as exc:
        raise web.HTTPBadRequest(text=_error_body(str(exc)), content_type="application/json") from None

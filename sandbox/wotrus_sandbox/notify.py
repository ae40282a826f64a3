# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notification/email: mail the certificate to the customer (logged, never sent)."""

from __future__ import annotations

import time

from wotrus_sandbox import states
from wotrus_sandbox import validate
from wotrus_sandbox.answers import envelope, order_not_found, read_body
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.sandbox import SANDBOX
from wotrus_sandbox.validate import Invalid

NOTIFY = "POST /v1/Notification/email"


async def notify(request):
    """``sentResult`` true for an issued order, false otherwise; every call goes to ``GET /notifications``."""
    sb = request.app[SANDBOX]
    body = await read_body(request)
    try:
        validate.check_keys(body, validate.NOTIFY_KEYS, "the body", sb.settings["accept_unknown_keys"])
        order_id = validate.order_id(body)
        url = validate.url_value(body, "collecturl", "")
    except Invalid as exc:
        return envelope(sb, NOTIFY, error=str(exc))
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, NOTIFY, order_id)
    sent = order["status"] == protocol.STATUS_ISSUED
    sb.store.log_notification(time=time.time(), order_id=order["id"], collect_url=url, status=order["status"],
                              sent=int(sent), request_id=request.headers.get(protocol.REQUEST_ID_HEADER))
    return envelope(sb, NOTIFY, data={"sentResult": sent}, success_msg="success" if sent else "")

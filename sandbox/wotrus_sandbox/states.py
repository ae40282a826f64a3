# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Order states that move by time.

Each order carries its product's path (e.g. pendingAutoIssue -> issued) and
the time it entered its current state; ``next_due`` says when it moves on
(per-state delays from the settings, 0 allowed). Orders are advanced both on
every read (so an answer is never stale) and by a background ticker (so pushes
go out without anyone asking). The certificate is signed at the moment an
order becomes issued.
"""

from __future__ import annotations

import asyncio
import logging
import time

from wotrus_sandbox import config
from wotrus_sandbox import dcv
from wotrus_sandbox.ca import CsrError
from wotrus_sandbox.collection import protocol

log = logging.getLogger("wotrus_sandbox.states")


def _next_due(sb, order, status, now):
    if status == protocol.STATUS_PENDING_REVOKE:
        return now + float(sb.settings["revoke_delay"])
    if order["is_pay"] == protocol.IS_PAY_UNPAID:
        return None
    path = order["path"]
    if status in path[:-1]:
        product = sb.settings["products"].get(order["product_id"])
        if status == protocol.STATUS_PENDING_DCV and config.dcv_mode(sb.settings, product) == "http":
            return None  # moved on by the DCV checker (dcv.py), not by time
        return now + config.step_delay(sb.settings, product, status)
    return None


def enter(sb, order, status, now=None, events=None):
    """Put an order into `status` (its side effects included). Call inside a transaction."""
    now = time.time() if now is None else now
    path = order["path"]
    step = path.index(status) if status in path else -1
    if (order.get("status") == protocol.STATUS_PENDING_DCV and protocol.STATUS_PENDING_DCV in path
            and step > path.index(protocol.STATUS_PENDING_DCV)):
        # left pendingDCV forward without (complete) HTTP checks: dcv_mode delay, or a forced state
        dcv.complete_unchecked(sb, order, now, "the order left pendingDCV by its delay or a forced state")
    fields = {"status": status, "step": step, "entered": now}
    order.update(fields)
    order["next_due"] = _next_due(sb, order, status, now)
    fields["next_due"] = order["next_due"]
    if status == protocol.STATUS_ISSUED and not sb.store.certs_of(order["id"]):
        try:
            sb.issue_certs(order)
        except (CsrError, ValueError) as exc:  # cannot happen for checked CSRs; be loud if it does
            log.error("order %s: signing failed: %s; order rejected", order["id"], exc)
            fields.update(status=protocol.STATUS_REJECTED, step=-1, next_due=None)
            order.update(fields)
            sb.store.update_order(order["id"], **fields)
            return
        fields["issued_at"] = now
        if events is not None:
            events.append(("issued", order["id"]))
        if order.get("revoke_on_issue"):
            old = sb.store.get_order(order["revoke_on_issue"])
            if old and any(c["revoked_at"] is None for c in sb.store.certs_of(old["id"])):
                sb.store.revoke_certs(old["id"], "superseded (reissued as %s)" % order["id"], now)
                sb.store.update_order(old["id"], revoked_at=now)
                if events is not None:
                    events.append(("revoked", old["id"]))
    elif status == protocol.STATUS_REVOKED:
        sb.store.revoke_certs(order["id"], order.get("revoke_reason") or "revoked", now)
        fields["revoked_at"] = now
        if events is not None:
            events.append(("revoked", order["id"]))
    sb.store.update_order(order["id"], **fields)


def set_paid(sb, order, is_pay, now=None):
    now = time.time() if now is None else now
    order["is_pay"] = is_pay
    fields = {"is_pay": is_pay}
    if order["next_due"] is None and order["status"] in order["path"][:-1] and is_pay != protocol.IS_PAY_UNPAID:
        # the clock of the current step starts when the order is paid
        fields["entered"] = now
        fields["next_due"] = _next_due(sb, order, order["status"], now)
    elif is_pay == protocol.IS_PAY_UNPAID and order["status"] != protocol.STATUS_PENDING_REVOKE:
        fields["next_due"] = None
    order.update(fields)
    sb.store.update_order(order["id"], **fields)


def advance(sb, order_id, now=None):
    """Move one order along its path as far as time allows. Returns the fresh order (or None)."""
    now = time.time() if now is None else now
    events = []
    with sb.store.tx():
        order = sb.store.get_order(order_id)
        if order is None:
            return None
        guard = 0
        while order["next_due"] is not None and order["next_due"] <= now and guard < 50:
            guard += 1
            at = order["next_due"]
            if order["status"] == protocol.STATUS_PENDING_REVOKE:
                enter(sb, order, protocol.STATUS_REVOKED, at, events)
            elif order["status"] in order["path"][:-1]:
                nxt = order["path"][order["path"].index(order["status"]) + 1]
                enter(sb, order, nxt, at, events)
            else:
                sb.store.update_order(order["id"], next_due=None)
                order["next_due"] = None
    sb.dispatch(events)
    return order


def reschedule_dcv(sb):
    """After a change of dcv_mode: orders in pendingDCV follow the mode they have now.

    http: not moved by time (next_due NULL). delay: due at entered + the pendingDCV delay.
    """
    with sb.store.tx():
        for oid in sb.store.orders_in_status(protocol.STATUS_PENDING_DCV):
            order = sb.store.get_order(oid)
            if order["is_pay"] == protocol.IS_PAY_UNPAID or protocol.STATUS_PENDING_DCV not in order["path"][:-1]:
                continue
            if dcv.http_mode(sb, order):
                due = None
            elif order["next_due"] is None:
                product = sb.settings["products"].get(order["product_id"])
                due = order["entered"] + config.step_delay(sb.settings, product, protocol.STATUS_PENDING_DCV)
            else:
                continue
            if due != order["next_due"]:
                sb.store.update_order(oid, next_due=due)


def advance_due(sb):
    now = time.time()
    for oid in sb.store.due_orders(now):
        advance(sb, oid, now)


async def ticker(sb):
    while True:
        try:
            advance_due(sb)
        except Exception:  # never let the ticker die
            log.exception("state ticker")
        await asyncio.sleep(float(sb.settings["tick_interval"]))

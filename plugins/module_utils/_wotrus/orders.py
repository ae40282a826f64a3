# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orders: the Create and Reissue bodies, idempotence ids derived from stable
inputs, the calls create / get / cancel / reissue (each sent or retried
safely), the order's facts read from an answer, and the cancel plan.

The order's life (which of these to call, when, and what a run may say it
did) is engine.py's; the order record is record.py's.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.protocol import ci_get
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    InputError,
    OrderStateError,
    TransportError,
)
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.inputs import parse_time as parse_iso_time

# Tolerance between the controller's clock and the service's createTime.
CREATE_TIME_SKEW = 300
# A Create with a derived idempotence id that returns an order in one of these
# states, created more than this many seconds before the run, is most likely a
# renewal that got last time's order back (reused_order_warning).
REUSED_ORDER_AGE = 86400
REUSED_ORDER_STATUSES = protocol.FINAL_STATUSES | protocol.REVOKE_DONE_STATUSES


def _sha(parts):
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:40]


def derive_idempotence_id(product_id, common_name, hosts, csr_key_sha256=None, month=None,
                          csr_sign_key_sha256=None, bind_rsa_product_id=None):
    """A stable idempotence id for Create: ``wtp-`` + 40 hex digits of the
    SHA-256 of product, common name, sorted hosts, the CSR's public key
    (SHA-256 of its SubjectPublicKeyInfo), month and the SM2 extras.

    The same inputs give the same id on every run and every host, so a
    resend after a lost answer or a crash creates nothing new. A new key,
    other names, another product or another month make another order.
    """
    parts = {
        "v": 1,
        "product": (product_id or "").upper(),
        "cn": (common_name or "").strip().lower(),
        "hosts": sorted(set(h.strip().lower() for h in (hosts or []) if h and h.strip())),
        "key": csr_key_sha256 or "",
        "month": int(month) if month else 0,
        "sign_key": csr_sign_key_sha256 or "",
        "bind": (bind_rsa_product_id or "").upper(),
    }
    return "wtp-" + _sha(parts)


def binding_sha256(binding):
    """SHA-256 (hex) of a JSON-able dict: what binds a derived idempotence id to more than
    the CSR's key (the role: host, certificate name, replaced serial, failed order, key)."""
    return hashlib.sha256(json.dumps(binding, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def derive_reissue_id(order_id, csr_key_sha256, csr_encrypt_key_sha256=None):
    """``wtr-`` + 40 hex digits: one reissue per (order, new key)."""
    return "wtr-" + _sha({"v": 1, "order": str(order_id).strip().lower(), "key": csr_key_sha256 or "",
                          "enc": csr_encrypt_key_sha256 or ""})


def build_create_body(product_id, common_name, month, idempotence_id, csr=None, hosts=None,
                      organization=None, documents=None, ukey_password=None, ukey_ship_address=None,
                      csr_sign=None, bind_rsa_product_id=None):
    """The Create body. ``organization`` is an ``organizationPost`` dict
    (inputs.organization_post), ``documents`` ``documentsPost`` items
    (inputs.load_documents). Keys are the camelCase of the parameter tables."""
    info = {
        "productID": product_id,
        "commonName": common_name,
        "month": int(month),
        "idempotenceID": idempotence_id,
    }
    if csr:
        info["csr_RSA"] = csr
    if hosts:
        info["hosts"] = protocol.join_hosts(hosts)
    if csr_sign:
        info["csr_Sign"] = csr_sign
    if bind_rsa_product_id:
        info["bindRSAProductID"] = bind_rsa_product_id
    if ukey_password:
        info["uKeyPassword"] = ukey_password
    if ukey_ship_address:
        info["uKeyShipAddress"] = ukey_ship_address
    body = {"orderInfoPost": info}
    if organization:
        body["organizationPost"] = organization
    body["documentsPost"] = list(documents or [])
    return body


class CreateResult:
    def __init__(self, data, request_id, attempts):
        self.data = data or {}
        self.order_id_main = ci_get(self.data, "orderId")
        self.order_id_rsa = ci_get(self.data, "orderId_RSA")
        self.order_id = self.order_id_main or self.order_id_rsa
        self.request_id = request_id
        self.attempts = attempts


def create_order(client, body):
    """Send Create (retried with the same idempotenceID) and return a CreateResult."""
    answer = client.post(protocol.PATH_CREATE, body, keyed=True, what="create the order")
    result = CreateResult(answer.data, answer.request_id, answer.attempts)
    if not result.order_id:
        raise ApiError("the WoTrus API created no order id (neither orderId nor orderId_RSA in the answer)",
                       status=answer.status, url=answer.url, method="POST", request_id=answer.request_id)
    return result


def get_order(client, order_id):
    try:
        answer = client.get(client.order_path(order_id), what="read order %s" % order_id)
    except ApiError as exc:
        # The API's refusal of this order id (not found, not this partner's): the option to check.
        exc.message = "%s; check order_id" % exc.message
        exc.option = exc.option or "order_id"
        raise
    if not isinstance(answer.data, dict):
        raise ApiError("the WoTrus API returned no order for %s; check order_id" % order_id,
                       status=answer.status, url=answer.url, method="GET", request_id=answer.request_id)
    return without_secrets(answer.data)


def without_secrets(order):
    """The order as the API answered it, less the fields that hold a secret
    (protocol.ORDER_SECRET_KEYS, in any casing): no result, log or record gets them."""
    secret = set(k.lower() for k in protocol.ORDER_SECRET_KEYS)
    return dict((k, v) for k, v in order.items() if str(k).lower() not in secret)


def status_of(order):
    """The order's status, read case-insensitively (protocol.canonical_status):
    every status comparison of the collection goes through here."""
    return protocol.canonical_status(ci_get(order, "status"))


def is_pay_of(order):
    value = ci_get(order, "isPay")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def summary(order):
    """Stable snake_case facts of an order (the API's key case varies)."""
    org = ci_get(order, "org") or {}
    return dict(
        order_id=ci_get(order, "id", "orderId", "orderID"),
        status=status_of(order),
        is_pay=is_pay_of(order),
        pending_link=ci_get(order, "pendingLink"),
        order_number=ci_get(order, "orderNumber"),
        product_id=ci_get(order, "productID", "productId"),
        product_name=ci_get(order, "productName"),
        common_name=ci_get(order, "cn", "commonName"),
        hosts=protocol.split_hosts(ci_get(order, "sn", "hosts")),
        create_time=ci_get(order, "createTime"),
        org_name=ci_get(org, "orgName") if isinstance(org, dict) else None,
    )


def parse_time(value):
    """A ``createTime`` as a POSIX timestamp (without an offset it is in
    protocol.PROVIDER_TIMEZONE), or None when absent or unreadable."""
    try:
        when = parse_iso_time(value, "createTime", default_tz=protocol.PROVIDER_TIMEZONE)
    except InputError:
        return None
    return when.timestamp() if when is not None else None


def created_before(order, started_at, skew=CREATE_TIME_SKEW):
    """True when the order's createTime is clearly older than ``started_at``
    (so a Create that returned it did not make it), False when it is newer,
    None when the answer carries no usable createTime."""
    created = parse_time(ci_get(order, "createTime"))
    if created is None:
        return None
    return created < started_at - skew


def reused_order_warning(order, started_at, idempotence_id, min_age=REUSED_ORDER_AGE):
    """A warning when a Create sent with a *derived* idempotence id returned an
    order that is already issued, revoked, rejected or closed and was created
    more than ``min_age`` seconds before ``started_at``; otherwise None.

    The derived id hashes product, names, the CSR's key and month, so a renewal
    that reuses the key (or sends no CSR) derives last time's id, and the
    service answers with last time's order instead of a new one."""
    status = status_of(order)
    if status not in REUSED_ORDER_STATUSES:
        return None
    created = parse_time(ci_get(order, "createTime"))
    if created is None or created >= started_at - min_age:
        return None
    order_id = ci_get(order, "id", "orderId", "orderID")
    return ("this Create returned an existing order%s created at %s (status %s), because the derived "
            "idempotence_id %s is the same as then (same product, names, CSR key and month); nothing new was "
            "ordered. To order a new certificate (a renewal) with the same key, pass a new idempotence_id"
            % ((" " + str(order_id)) if order_id else "", ci_get(order, "createTime"), status, idempotence_id))


def cancel_plan(order, order_id):
    """``"noop"`` (already closed), ``"cancel"``, or raise OrderStateError."""
    status = status_of(order)
    if status in protocol.CANCEL_DONE_STATUSES:
        return "noop"
    if status in protocol.NOT_CANCELLABLE_STATUSES:
        raise OrderStateError(
            "order %s is %s and cannot be cancelled; use wotrus.pki.wotrus_revoke to revoke its "
            "certificate" % (order_id, status))
    return "cancel"


def cancel_order(client, order_id, reason, attempts=3):
    """Cancel ``order_id``; return ``(order, changed)``.

    Cancel carries no idempotency key, so it is never sent again blindly.
    After an answer that leaves the outcome unknown (connection lost after
    sending, 5xx, 429) the order is read again: closed -> done, and this run
    counts as the one that closed it (it was open when the request went out);
    still open -> wait what ``Retry-After`` asked for (else a capped backoff)
    and send again. A refusal is read again too: an order that another run
    closed meanwhile is success with ``changed=False``.
    """
    what = "cancel order %s" % order_id
    for attempt in range(1, attempts + 1):
        try:
            answer = client.post(protocol.PATH_CANCEL, {"orderID": order_id, "reason": reason}, what=what)
        except TransportError as exc:
            if not exc.sent:
                raise
            order = get_order(client, order_id)
            if cancel_plan(order, order_id) == "noop":
                return order, True
            if attempt == attempts:
                raise
            client.wait(attempt, exc.retry_after, "the cancel of %s had no clear answer (%s); the order is still %s"
                        % (order_id, exc.message, status_of(order)))
            continue
        except ApiError:
            order = get_order(client, order_id)
            if status_of(order) in protocol.CANCEL_DONE_STATUSES:
                return order, False
            raise
        if not protocol_truthy(ci_get(answer.data, "cancelResult")):
            order = get_order(client, order_id)
            if status_of(order) in protocol.CANCEL_DONE_STATUSES:
                return order, False
            reason_text = ci_get(answer.data, "cancelFailedReason") or "no reason given"
            raise ApiError("the WoTrus API did not cancel order %s: %s" % (order_id, reason_text),
                           status=answer.status, url=answer.url, method="POST",
                           request_id=answer.request_id, error_msg=reason_text)
        return get_order(client, order_id), True
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def protocol_truthy(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def build_reissue_body(order_id, csr, reason, idempotence_id, csr_encrypt=None, proof=None):
    body = {"orderID": order_id, "csr": csr, "reason": reason, "idempotenceID": idempotence_id}
    if csr_encrypt:
        body["csR_Encrypt"] = csr_encrypt
    if proof:
        body["fileType"], body["fileContent"] = proof
    return body


def reissue(client, body):
    """Send Reissue (keyed: retried with the same idempotenceID) -> new order id."""
    answer = client.post(protocol.PATH_REISSUE, body, keyed=True,
                         what="reissue order %s" % body.get("orderID"))
    new_id = ci_get(answer.data, "newOrderID", "newOrderId")
    if not new_id:
        raise ApiError("the WoTrus API accepted the reissue but returned no newOrderID",
                       status=answer.status, url=answer.url, method="POST", request_id=answer.request_id)
    return new_id


def why_not_issued(order):
    """A sentence saying what the order waits for."""
    s = summary(order)
    status = s["status"]
    link = (" at %s" % s["pending_link"]) if s["pending_link"] else ""
    if s["is_pay"] == protocol.IS_PAY_UNPAID and status not in protocol.FINAL_STATUSES:
        return "the order waits for payment (isPay 0), not for validation: pay it in the WoTrus partner console"
    if status == protocol.STATUS_PENDING_DCV:
        return "the order waits for domain validation: publish the DCV values or finish it%s" % link
    if status == protocol.STATUS_PENDING:
        return "the order waits for a person to review it; upload what is missing%s" % link
    if status == protocol.STATUS_PENDING_SUBMIT:
        return "WoTrus is reviewing the order before it goes to the CA"
    if status == protocol.STATUS_PENDING_CA_ISSUED:
        return "the order waits for the CA to issue (the CA may call the organisation)"
    if status == protocol.STATUS_PENDING_AUTO_ISSUE:
        return "the order will be issued automatically"
    if status in protocol.REVOKE_DONE_STATUSES:
        return "the order's certificate is revoked or being revoked"
    if status == protocol.STATUS_REJECTED:
        return "the order was rejected; read it in the partner console%s" % link
    if status == protocol.STATUS_CLOSED:
        return "the order is closed (cancelled)"
    return "the order has status %s, which is not final" % status

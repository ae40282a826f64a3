# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates: retrieve the PEMs, revoke, e-mail notification."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.protocol import ci_get
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    NotIssuedYet,
    OrderStateError,
    TransportError,
)
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders

# RetrievePem keys per kind of certificate.
KINDS = (("rsa", "pem_RSA", "chains_RSA"), ("sign", "pem_Sign", "chains_Sign"),
         ("encrypt", "pem_Encrypt", "chains_Encrypt"))


def retrieve(client, order_id):
    """``{kind: {"pem": str, "chains": [str]}}`` for the kinds present (rsa, sign, encrypt)."""
    answer = client.get(protocol.PATH_RETRIEVE_PEM, params={"orderID": order_id},
                        what="retrieve the certificate of order %s" % order_id)
    data = answer.data if isinstance(answer.data, dict) else {}
    out = {}
    for kind, pem_key, chains_key in KINDS:
        pem = ci_get(data, pem_key)
        if pem and "BEGIN" in str(pem).upper():
            chains = ci_get(data, chains_key) or []
            if isinstance(chains, str):
                chains = [chains]
            out[kind] = {"pem": pem, "chains": [c for c in chains if c]}
    if not out:
        raise NotIssuedYet("order %s has no certificate to retrieve yet" % order_id,
                           url=answer.url, method="GET", request_id=answer.request_id)
    return out


def revoke_plan(order, order_id):
    """``"noop"`` (already pendingRevoke or revoked), ``"revoke"``, or raise."""
    status = orders.status_of(order)
    if status in protocol.REVOKE_DONE_STATUSES:
        return "noop"
    if status in protocol.NOT_REVOCABLE_STATUSES:
        raise OrderStateError(
            "order %s is %s and has no certificate to revoke; use wotrus.pki.wotrus_order with "
            "state=absent to cancel it" % (order_id, status))
    return "revoke"


class RevokeResult:
    """What a revocation request came to: ``changed`` (this run's request
    did it), ``revoke_status`` / ``revoked`` as the API answered (None when
    the answer was lost), ``order`` as read afterwards."""

    def __init__(self, changed, order, revoke_status=None, revoked=False):
        self.changed = changed
        self.order = order
        self.revoke_status = revoke_status
        self.revoked = bool(revoked) or orders.status_of(order) == protocol.STATUS_REVOKED


def revoke(client, order_id, reason, proof, attempts=3):
    """Request revocation; ``proof`` is ``(fileType, base64)``. Returns a :class:`RevokeResult`.

    RevokeRequest carries no idempotency key, so it is never sent again
    blindly: after an answer that leaves the outcome unknown (connection lost
    after sending, 5xx, 429) the order is read again; pendingRevoke or revoked
    -> done (this run's request did it: the order was revocable when it went
    out); otherwise wait what ``Retry-After`` asked for (else a capped backoff)
    and send again. A refusal is read again too: an order another run revoked
    meanwhile is success with ``changed=False``.
    """
    file_type, content = proof
    body = {"orderId": order_id, "reason": reason, "fileType": file_type, "fileContent": content}
    what = "request revocation of order %s" % order_id
    for attempt in range(1, attempts + 1):
        try:
            answer = client.post(protocol.PATH_REVOKE, body, what=what)
        except TransportError as exc:
            if not exc.sent:
                raise
            order = orders.get_order(client, order_id)
            if revoke_plan(order, order_id) == "noop":
                return RevokeResult(True, order)
            if attempt == attempts:
                raise
            client.wait(attempt, exc.retry_after, "the revocation of %s had no clear answer (%s); the order is "
                        "still %s" % (order_id, exc.message, orders.status_of(order)))
            continue
        except ApiError:
            order = orders.get_order(client, order_id)
            if orders.status_of(order) in protocol.REVOKE_DONE_STATUSES:
                return RevokeResult(False, order)
            raise
        data = answer.data if isinstance(answer.data, dict) else {}
        return RevokeResult(True, orders.get_order(client, order_id), ci_get(data, "revokeStatus"),
                            orders.protocol_truthy(ci_get(data, "revoked")))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def notify(client, order_id, collect_url):
    """Ask the provider to e-mail the user that the certificate is issued."""
    answer = client.post(protocol.PATH_NOTIFY, {"orderID": order_id, "collectUrl": collect_url},
                         what="send the issuance e-mail for order %s" % order_id)
    sent = orders.protocol_truthy(ci_get(answer.data, "sentResult"))
    if not sent:
        raise ApiError("the WoTrus API did not send the e-mail for order %s (sentResult false)" % order_id,
                       status=answer.status, url=answer.url, method="POST", request_id=answer.request_id)
    return sent

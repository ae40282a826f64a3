# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates: RetrievePem, RevokeRequest, ReissueRequest."""

from __future__ import annotations

import time

from wotrus_sandbox import config
from wotrus_sandbox import states
from wotrus_sandbox import validate
from wotrus_sandbox.answers import envelope, order_not_found, read_body
from wotrus_sandbox.ca import CsrError
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.ordering import check_names, fingerprint, idempotent_replay, new_order
from wotrus_sandbox.sandbox import HAS_CERT_STATUSES, SANDBOX
from wotrus_sandbox.validate import Invalid

RETRIEVE = "GET /v1/Certificate/RetrievePem"
REVOKE = "POST /v1/Certificate/RevokeRequest"
REISSUE = "POST /v1/Certificate/ReissueRequest"
# RetrievePem fields per CSR usage.
USAGE_SUFFIXES = (("rsa", "RSA"), ("sign", "Sign"), ("encrypt", "Encrypt"))
# Revoke: the order's certificate can be revoked in these states (the old order of a reissue too).
REVOCABLE = frozenset([protocol.STATUS_ISSUED, protocol.SANDBOX_REISSUED_STATUS])


async def retrieve(request):
    sb = request.app[SANDBOX]
    query = {k.lower(): v for k, v in request.query.items()}
    if not sb.settings["accept_unknown_keys"]:
        unknown = sorted(set(query) - {"orderid"})
        if unknown:
            return envelope(sb, RETRIEVE, error="unknown query parameter(s): %s (accepted: orderID)"
                            % ", ".join(unknown))
    order_id = (query.get("orderid") or "").strip()
    if not order_id:
        return envelope(sb, RETRIEVE, error="orderID is required (?orderID=...)")
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, RETRIEVE, order_id)
    certs = sb.store.certs_of(order["id"])
    if order["status"] not in HAS_CERT_STATUSES or not certs:
        unpaid = ", isPay 0: waiting for payment" if order["is_pay"] == protocol.IS_PAY_UNPAID else ""
        return envelope(sb, RETRIEVE, error="the certificate is not issued yet (status %s%s)"
                        % (order["status"], unpaid))
    latest = {cert["usage"]: cert for cert in certs}
    data = {}
    for usage, suffix in USAGE_SUFFIXES:
        cert = latest.get(usage)
        data["pem_" + suffix] = cert["pem"] if cert else None
        data["chains_" + suffix] = list(sb.chain(usage)) if cert else []
    data["result"] = True
    return envelope(sb, RETRIEVE, data=data, success_msg="success")


def revoke_refusal(sb, order):
    """Why the order's certificate cannot be revoked now, or None (call inside a transaction)."""
    status = order["status"]
    live = [c for c in sb.store.certs_of(order["id"]) if c["revoked_at"] is None]
    if status == protocol.STATUS_PENDING_REVOKE:
        return "the certificate of order %s is already pending revocation (status pendingRevoke)" % order["id"]
    if status in protocol.REVOKE_DONE_STATUSES or (status in HAS_CERT_STATUSES and not live):
        return "the certificate of order %s is already revoked" % order["id"]
    if status not in REVOCABLE:
        return "only an issued certificate can be revoked (order %s is in status %s)" % (order["id"], status)
    return None


async def revoke(request):
    sb = request.app[SANDBOX]
    body = await read_body(request)
    try:
        validate.check_keys(body, validate.REVOKE_KEYS, "the body", sb.settings["accept_unknown_keys"])
        order_id = validate.order_id(body, name="orderId")
        reason = validate.req_str(body, "reason", "", protocol.REASON_MAX_LENGTH)
        validate.file_content(body, "", sb.settings["check_file_magic"])
    except Invalid as exc:
        return envelope(sb, REVOKE, error=str(exc))
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, REVOKE, order_id)
    with sb.store.tx():
        order = sb.store.get_order(order_id)
        refusal = revoke_refusal(sb, order)
        if refusal is not None:
            return envelope(sb, REVOKE, error=refusal)
        sb.store.update_order(order["id"], revoke_reason=reason)
        order["revoke_reason"] = reason
        states.enter(sb, order, protocol.STATUS_PENDING_REVOKE)
    return envelope(sb, REVOKE, data={"revokeStatus": "pendingAudit", "revoked": False}, success_msg="申请吊销成功")


def proof_required(kind, product):
    """API text 7: SM2 and Sectigo products need a revocation letter to reissue (and revoke the old one)."""
    return kind == "sm2" or product.get("backend") == "sectigo"


async def reissue(request):
    sb = request.app[SANDBOX]
    body = await read_body(request)
    try:
        validate.check_keys(body, validate.REISSUE_KEYS, "the body", sb.settings["accept_unknown_keys"])
        order_id = validate.order_id(body)
        csr_text = validate.req_str(body, "csr", "", None)
        validate.req_str(body, "reason", "", protocol.REASON_MAX_LENGTH)
        csr_enc = validate.opt_str(body, "csr_encrypt", "")
        key = validate.idempotence_id(body, "the body")
    except Invalid as exc:
        return envelope(sb, REISSUE, error=str(exc))
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, REISSUE, order_id)
    kind = order["kind"]
    product = sb.product(order["product_id"]) or {"kind": kind, "backend": "wotrus", "path": config.PATH_AUTO}
    proof_needed = proof_required(kind, product)
    try:
        validate.file_content(body, "", sb.settings["check_file_magic"], required=proof_needed)
        if kind == "sm2":
            if not csr_enc.strip():
                raise Invalid("csR_Encrypt is required to reissue an SM2 certificate")
        elif csr_enc.strip():
            raise Invalid("csR_Encrypt is for SM2 products only")
        csr = sb.ca.load_csr(csr_text, "csr", sm2_key=kind == "sm2")
        check_names(sb, "ssl" if kind == "sm2" else kind, csr, order["common_name"], order["hosts"], "csr")
        if kind == "sm2":
            csr_e = sb.ca.load_csr(csr_enc, "csR_Encrypt", sm2_key=True)
            check_names(sb, "ssl", csr_e, order["common_name"], order["hosts"], "csR_Encrypt")
    except (Invalid, CsrError) as exc:
        return envelope(sb, REISSUE, error=str(exc))
    fp = fingerprint("reissue", body)
    now = time.time()
    events = []
    with sb.store.tx():
        replay = idempotent_replay(sb, REISSUE, key, fp, "reissue", "request",
                                   lambda oid: {"newOrderID": oid}, "申请重新颁发成功")
        if replay is not None:
            return replay
        order = sb.store.get_order(order["id"])
        if order["status"] != protocol.STATUS_ISSUED:
            return envelope(sb, REISSUE, error="only an issued order can be reissued (order %s is in status %s)"
                            % (order["id"], order["status"]))
        csrs = {"sign": csr_text, "encrypt": csr_enc} if kind == "sm2" else {"rsa": csr_text}
        if product.get("path") is None or order["product_id"] not in sb.settings["products"]:
            product = dict(product, path=order["path"])
        new = new_order(sb, op="reissue", product_id=order["product_id"], product=dict(product, kind=kind),
                        common_name=order["common_name"], hosts=order["hosts"], month=order["month"],
                        request=order["request"], csrs=csrs, idempotence_id=key, now=now,
                        seq=sb.store.next_seq(), reissued_from=order["id"],
                        revoke_on_issue=order["id"] if proof_needed else None)
        sb.store.update_order(order["id"], reissued_to=new["id"])
        states.enter(sb, order, protocol.SANDBOX_REISSUED_STATUS, now)
        states.enter(sb, new, new["path"][0], now, events)
        if key is not None:
            sb.store.idempotence_insert(key, fp, new["id"], "reissue")
    sb.dispatch(events)
    return envelope(sb, REISSUE, data={"newOrderID": new["id"]}, success_msg="申请重新颁发成功")

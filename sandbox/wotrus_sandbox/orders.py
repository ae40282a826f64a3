# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orders: Create, the order query, Cancel, and the pendingLink page."""

from __future__ import annotations

import dataclasses
import time
import uuid

from aiohttp import web

from wotrus_sandbox import config
from wotrus_sandbox import states
from wotrus_sandbox import validate
from wotrus_sandbox.answers import envelope, order_not_found, read_body
from wotrus_sandbox.ca import CsrError
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.ordering import check_names, check_ssl_names_syntax, fingerprint, idempotent_replay, new_order
from wotrus_sandbox.sandbox import HAS_CERT_STATUSES, SANDBOX
from wotrus_sandbox.validate import Invalid

CREATE = "POST /v1/Order/Create"
QUERY = "GET /v1/Order/{id}"
CANCEL = "POST /v1/Order/Cancel"

# Cancel refuses these (isSuccess true, cancelResult false): what protocol.py
# reads as not cancellable or already done, and the old order of a reissue.
CANCEL_REFUSALS = {
    protocol.STATUS_ISSUED: "证书已签发 (the certificate is already issued)",
    protocol.STATUS_PENDING_REVOKE: "证书吊销审核中 (the certificate is being revoked)",
    protocol.STATUS_REVOKED: "证书已吊销 (the certificate is already revoked)",
    protocol.STATUS_CLOSED: "订单已关闭 (the order is already closed)",
    protocol.STATUS_REJECTED: "订单已被拒绝 (the order was rejected)",
    protocol.SANDBOX_REISSUED_STATUS: "订单已重新颁发 (the order was reissued)",
}
NOT_CANCELLABLE = (protocol.NOT_CANCELLABLE_STATUSES | protocol.CANCEL_DONE_STATUSES
                   | {protocol.SANDBOX_REISSUED_STATUS})


@dataclasses.dataclass
class CreateRequest:
    """A Create body that passed every check."""
    product_id: str
    product: dict
    common_name: str
    hosts: list
    month: int
    idempotence_id: str | None  # None: no idempotenceID
    csrs: dict
    record: dict                 # what the order keeps of the request: org, documents, uKey fields
    bound_product_id: str = ""   # SM2 with csr_RSA: the bound RSA order's product
    bound_product: dict | None = None
    bound_csr: str = ""


def read_create(sb, body):
    """Check a Create body (raises Invalid or CsrError with the errorMsg)."""
    accept = sb.settings["accept_unknown_keys"]
    validate.check_keys(body, validate.CREATE_KEYS, "the body", accept)
    info = body.get("orderinfopost")
    if not isinstance(info, dict):
        raise Invalid("orderInfoPost is required (an object)")
    validate.check_keys(info, validate.ORDER_INFO_KEYS, "orderInfoPost", accept)
    product_id = validate.req_str(info, "productid", "orderInfoPost").upper()
    product = sb.product(product_id)
    if product is None:
        raise Invalid("unknown productID %s: this account has no such product (known: %s)"
                      % (product_id, ", ".join(sorted(sb.settings["products"]))))
    kind = product["kind"]
    common_name = validate.req_str(info, "commonname", "orderInfoPost", 64)
    month = validate.int_value(info, "month", "orderInfoPost")
    if month not in protocol.MONTHS:
        raise Invalid("orderInfoPost.month %s is not one of %s (13 and 25 are renewals)"
                      % (month, ", ".join(map(str, protocol.MONTHS))))
    hosts = validate.hosts_value(info.get("hosts"))
    key = validate.idempotence_id(info, "orderInfoPost")
    for name in ("ukeypassword", "ukeyshipaddress"):
        validate.opt_str(info, name, "orderInfoPost", 256)
    org = validate.organization(body.get("organizationpost"), accept)
    docs = validate.documents(body.get("documentspost"), accept, sb.settings["check_file_magic"])
    csr_rsa = validate.opt_str(info, "csr_rsa", "orderInfoPost")
    csr_sign = validate.opt_str(info, "csr_sign", "orderInfoPost")
    csr_enc = validate.opt_str(info, "csr_encrypt", "orderInfoPost")
    bind = validate.opt_str(info, "bindrsaproductid", "orderInfoPost").upper()
    record = {name: info.get(name) for name in ("ukeypassword", "ukeyshipaddress") if info.get(name)}
    record.update(org=org, documents=docs)
    request = CreateRequest(product_id=product_id, product=product, common_name=common_name, hosts=hosts,
                            month=month, idempotence_id=key, csrs={}, record=record)
    if kind in ("document", "ssl"):
        if kind == "document":
            if hosts:
                raise Invalid("orderInfoPost.hosts is not used by document-signing products; leave it empty")
        else:
            check_ssl_names_syntax(common_name, hosts)
        if csr_sign or csr_enc or bind:
            raise Invalid("csr_Sign / csr_Encrypt / bindRSAProductID are for SM2 products only")
        if not csr_rsa.strip():
            raise Invalid("orderInfoPost.csr_RSA is required")
        csr = sb.ca.load_csr(csr_rsa, "csr_RSA")
        check_names(sb, kind, csr, common_name, hosts, "csr_RSA")
        request.csrs["rsa"] = csr_rsa
        return request
    # SM2
    check_ssl_names_syntax(common_name, hosts)
    if not csr_sign.strip():
        raise Invalid("orderInfoPost.csr_Sign (the SM2 signing CSR) is required for SM2 products")
    csr = sb.ca.load_csr(csr_sign, "csr_Sign", sm2_key=True)
    check_names(sb, "ssl", csr, common_name, hosts, "csr_Sign")
    request.csrs["sign"] = csr_sign
    request.csrs["encrypt"] = csr_enc if csr_enc.strip() else csr_sign
    if csr_enc.strip():
        check_names(sb, "ssl", sb.ca.load_csr(csr_enc, "csr_Encrypt", sm2_key=True), common_name, hosts, "csr_Encrypt")
    if csr_rsa.strip():
        bind = bind or protocol.PRODUCT_SSL_EXAMPLE
        bound = sb.product(bind)
        if bound is None or bound["kind"] != "ssl":
            raise Invalid("bindRSAProductID %s is not an RSA SSL product of this account" % bind)
        check_names(sb, "ssl", sb.ca.load_csr(csr_rsa, "csr_RSA"), common_name, hosts, "csr_RSA")
        request.bound_product_id, request.bound_product, request.bound_csr = bind, bound, csr_rsa
    elif bind:
        raise Invalid("bindRSAProductID needs csr_RSA (the CSR of the bound RSA order)")
    return request


def create_answer(sb, order):
    """``{orderId, orderId_RSA}``: which field carries a plain order's ID is a knob (``rsa_order_id_field``)."""
    main_key = sb.order_key("orderId")
    rsa_key = sb.order_key("orderId_RSA")
    if order["kind"] == "sm2":
        return {main_key: order["id"], rsa_key: order.get("bound_order")}
    field = sb.settings["rsa_order_id_field"]
    if field == "orderId_RSA":
        return {main_key: None, rsa_key: order["id"]}
    if field == "both":
        return {main_key: order["id"], rsa_key: order["id"]}
    return {main_key: order["id"], rsa_key: None}


async def create(request):
    sb = request.app[SANDBOX]
    body = await read_body(request)
    try:
        req = read_create(sb, body)
    except (Invalid, CsrError) as exc:
        return envelope(sb, CREATE, error=str(exc))
    fp = fingerprint("create", body)
    key = req.idempotence_id
    now = time.time()
    events = []
    with sb.store.tx():
        replay = idempotent_replay(sb, CREATE, key, fp, "create", "order",
                                   lambda oid: create_answer(sb, sb.store.get_order(oid)), "success")
        if replay is not None:
            return replay
        seq = sb.store.next_seq()
        common = dict(common_name=req.common_name, hosts=req.hosts, month=req.month, request=req.record, now=now)
        order = new_order(sb, op="create", product_id=req.product_id, product=req.product, csrs=req.csrs,
                          idempotence_id=key, seq=seq, **common)
        if req.bound_product is not None:
            rsa_order = new_order(sb, op="bound", product_id=req.bound_product_id, product=req.bound_product,
                                  csrs={"rsa": req.bound_csr}, idempotence_id=None, seq=seq + 1,
                                  bound_order=order["id"], **common)
            sb.store.update_order(order["id"], bound_order=rsa_order["id"])
            order["bound_order"] = rsa_order["id"]
            states.enter(sb, rsa_order, rsa_order["path"][0], now)
        states.enter(sb, order, order["path"][0], now, events)
        if key is not None:
            sb.store.idempotence_insert(key, fp, order["id"], "create")
    sb.dispatch(events)
    return envelope(sb, CREATE, data=create_answer(sb, order), success_msg="success")


def order_data(sb, order):
    """The order query's ``data``."""
    req = order["request"]
    org = req.get("org", {})
    docs = req.get("documents", [])
    status = order["status"]
    names = [order["common_name"]] + [h for h in order["hosts"] if h.lower() != order["common_name"].lower()]
    product = sb.product(order["product_id"]) or {}
    data = {
        "id": order["id"],
        "productName": product.get("name", order["product_id"]),
        "productID": order["product_id"],
        "commonName": order["common_name"],
        "hosts": protocol.join_hosts(order["hosts"]),
        "cn": order["common_name"],
        "sn": protocol.join_hosts(names) if order["kind"] != "document" else order["common_name"],
        "month": order["month"],
        "idempotenceID": order["idempotence_id"],
        "uKeyPassword": req.get("ukeypassword") or None,
        "uKeyShipAddress": req.get("ukeyshipaddress") or None,
        "org": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "org:" + order["id"])),
            "orgName": org.get("orgname"),
            "orgPhone": org.get("orgphone"),
            "orgEmail": org.get("orgemail"),
            "userFirstName": org.get("userfirstname") or None,
            "userLastName": org.get("userlastname") or None,
            "userEmail": org.get("useremail") or None,
            "userMobile": org.get("usermobile") or None,
            "idCardNumber": org.get("idcardno") or None,
            "countryCode": org.get("countrycode") or None,
            "isUpload": bool(docs),
            "status": "pending",
        },
        "orderNumber": order["order_number"],
        "duration": order["month"],
        "durationType": 0,
        "createTime": sb.create_time(order["created"]),
        "serverCount": len(names) if order["kind"] != "document" else 1,
        "includeRSA": "rsa" in order["csrs"],
        "isUploadedPic": bool(docs),
        "isSNVerified": status in HAS_CERT_STATUSES or status == protocol.STATUS_PENDING_CA_ISSUED,
        ("isCSRSubmited" if sb.settings["answer_casing"] == "v109" else "isCSRSubmitted"): True,
        "isCustomerInfoFilled": True,
        sb.settings["status_key"]: status,
        "isPay": order["is_pay"],
        "pendingLink": sb.pending_link(order),
    }
    if order.get("bound_order"):
        bound_key = sb.order_key("orderId_RSA") if order["kind"] == "sm2" else sb.order_key("orderId")
        data[bound_key] = order["bound_order"]
    return data


async def get_order(request):
    sb = request.app[SANDBOX]
    order_id = request.match_info["id"]
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, QUERY, order_id)
    return envelope(sb, QUERY, data=order_data(sb, order), success_msg="success")


def cancel_refusal(status):
    """Why an order in ``status`` cannot be cancelled, or None when it can."""
    if status in NOT_CANCELLABLE:
        return CANCEL_REFUSALS.get(status, "订单状态 %s 不能取消 (an order in status %s cannot be cancelled)"
                                   % (status, status))
    if status not in config.PATH_STEPS:
        return "订单状态 %s 不能取消 (an order in status %s cannot be cancelled)" % (status, status)
    return None


async def cancel(request):
    sb = request.app[SANDBOX]
    body = await read_body(request)
    try:
        validate.check_keys(body, validate.CANCEL_KEYS, "the body", sb.settings["accept_unknown_keys"])
        order_id = validate.order_id(body)
        reason = validate.opt_str(body, "reason", "", protocol.REASON_MAX_LENGTH)
    except Invalid as exc:
        return envelope(sb, CANCEL, error=str(exc))
    order = states.advance(sb, order_id)
    if order is None:
        return order_not_found(sb, CANCEL, order_id)
    with sb.store.tx():
        order = sb.store.get_order(order_id)
        refusal = cancel_refusal(order["status"])
        if refusal is None:
            sb.store.update_order(order["id"], cancel_reason=reason)
            states.enter(sb, order, protocol.STATUS_CLOSED)
    if refusal is not None:
        return envelope(sb, CANCEL, data={"cancelResult": False, "cancelFailedReason": refusal})
    return envelope(sb, CANCEL, data={"cancelResult": True, "cancelFailedReason": ""}, success_msg="success")


async def pending_link_page(request):
    """The page ``pendingLink`` points at (no token needed): the order's status."""
    sb = request.app[SANDBOX]
    token = request.match_info["token"]
    for order in sb.store.orders():
        if sb.pending_link(order).endswith("/" + token + ".html"):
            order = states.advance(sb, order["id"])
            html = ("<html><head><meta charset='utf-8'><title>WoTrus sandbox order</title></head><body>"
                    "<h1>Order %s</h1><p>Status: <b>%s</b> (isPay %s)</p><p>This sandbox page stands for "
                    "the provider's page where a person finishes validation. Use the management API "
                    "to move the order.</p></body></html>") % (order["id"], order["status"], order["is_pay"])
            return web.Response(text=html, content_type="text/html", charset="utf-8")
    raise web.HTTPNotFound(text="no such order page")

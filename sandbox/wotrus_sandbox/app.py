# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WoTrus-compatible API: routes, envelope, token check, faults, handlers.

``Sandbox`` holds everything one running sandbox owns (settings, store, CA,
faults, pusher); ``create_api_app`` builds the HTTPS application on it.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import json
import logging
import time
import uuid

from aiohttp import web

from wotrus_sandbox import config as C
from wotrus_sandbox import dcv
from wotrus_sandbox import states
from wotrus_sandbox.ca import CA, CsrError, cert_pem, is_ip, valid_dns_name
from wotrus_sandbox.faults import ENDPOINTS, Faults
from wotrus_sandbox.push import Pusher
from wotrus_sandbox.shared import protocol as P
from wotrus_sandbox.store import Store
from wotrus_sandbox import validate as V
from wotrus_sandbox.validate import Invalid

log = logging.getLogger("wotrus_sandbox.api")

SEED_PAGE = {"total": 0, "limit": 0, "skip": 0}
# Endpoints whose seed example carries the page object (the order query shows null).
PAGE_OBJECT_ENDPOINTS = {"POST /v1/Order/Create", "GET /v1/Certificate/RetrievePem",
                         "POST /v1/Certificate/RevokeRequest", "POST /v1/Certificate/ReissueRequest"}
PENDING_LINK_PATH = "/ProductV4/OrderSuccess/{token}.html"
HAS_CERT_STATUSES = {P.STATUS_ISSUED, P.STATUS_PENDING_REVOKE, P.STATUS_REVOKED, P.SANDBOX_REISSUED_STATUS}
CANCEL_REFUSALS = {
    P.STATUS_ISSUED: "证书已签发 (the certificate is already issued)",
    P.STATUS_PENDING_REVOKE: "证书吊销审核中 (the certificate is being revoked)",
    P.STATUS_REVOKED: "证书已吊销 (the certificate is already revoked)",
    P.STATUS_CLOSED: "订单已关闭 (the order is already closed)",
    P.STATUS_REJECTED: "订单已被拒绝 (the order was rejected)",
    P.SANDBOX_REISSUED_STATUS: "订单已重新颁发 (the order was reissued)",
}


class Sandbox:
    def __init__(self, state_dir, settings, tokens):
        self.state_dir = state_dir
        self.settings = settings
        self.tokens = [t.encode("utf-8") for t in tokens]
        self.store = Store(state_dir)
        self.ca = CA(state_dir)
        self.faults = Faults()
        self.pusher = Pusher(self)
        self.api_url = None
        self.mgmt_url = None
        self.http_url = None

    # -- events ----------------------------------------------------------------
    def dispatch(self, events):
        for event, order_id in events:
            try:
                self.pusher.schedule(order_id, event)
            except RuntimeError:  # no running loop (offline use)
                pass

    def token_ok(self, presented):
        if presented is None:
            return False
        p = presented.strip().encode("utf-8")
        ok = False
        for t in self.tokens:
            ok |= hmac.compare_digest(p, t)
        return ok

    def write_roots(self):
        return self.ca.write_roots(self.state_dir, self.settings["cross_sign"])

    def chain(self):
        return self.ca.chain_pems(self.settings["cross_sign"])

    # -- certificates ----------------------------------------------------------
    def issue_certs(self, order):
        product = self.settings["products"].get(order["product_id"]) or {}
        kind = order["kind"]
        if kind == "ssl" and product.get("validation", "ov") == "dv":
            sign_kind = "ssl_dv"
        else:
            sign_kind = kind
        crl_url = (self.mgmt_url + "/crl") if (self.mgmt_url and self.settings["crl_in_leaf"]) else None
        org = order["request"].get("org", {})
        for usage, csr in sorted(order["csrs"].items()):
            cert = self.ca.issue(csr, kind=sign_kind, usage=usage, common_name=order["common_name"],
                                 hosts=order["hosts"], org=org, months=order["month"],
                                 validity_minutes=self.settings["validity_minutes"], crl_url=crl_url)
            self.store.insert_cert(format(cert.serial_number, "x"), order["id"], usage, cert_pem(cert),
                                   self.chain(), cert.not_valid_after_utc.timestamp())

    # -- answers ----------------------------------------------------------------
    def order_key(self, name):
        """orderId / orderId_RSA (v106) or orderID / orderID_RSA (v109)."""
        if self.settings["answer_casing"] == "v109":
            return name.replace("orderId", "orderID")
        return name

    def page(self, endpoint):
        style = self.settings["page_style"]
        if style == "null":
            return None
        if style == "object" or endpoint in PAGE_OBJECT_ENDPOINTS:
            return dict(SEED_PAGE)
        return None

    def pending_link(self, order):
        token = hashlib.sha256(("pending:" + order["id"]).encode()).hexdigest().upper()
        return (self.api_url or "") + PENDING_LINK_PATH.replace("{token}", token)

    def create_time(self, epoch):
        off = self.settings["utc_offset"]
        sign = -1 if off.startswith("-") else 1
        hh, mm = off.lstrip("+-").split(":")
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(hh), minutes=int(mm)))
        dt = datetime.datetime.fromtimestamp(epoch, tz)
        return dt.isoformat(timespec="milliseconds")

    def order_data(self, order):
        req = order["request"]
        org = req.get("org", {})
        docs = req.get("documents", [])
        status = order["status"]
        names = [order["common_name"]] + [h for h in order["hosts"] if h.lower() != order["common_name"].lower()]
        product = self.settings["products"].get(order["product_id"]) or {}
        data = {
            "id": order["id"],
            "productName": product.get("name", order["product_id"]),
            "productID": order["product_id"],
            "commonName": order["common_name"],
            "hosts": P.join_hosts(order["hosts"]),
            "cn": order["common_name"],
            "sn": P.join_hosts(names) if order["kind"] != "document" else order["common_name"],
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
            "createTime": self.create_time(order["created"]),
            "serverCount": len(names) if order["kind"] != "document" else 1,
            "includeRSA": "rsa" in order["csrs"],
            "isUploadedPic": bool(docs),
            "isSNVerified": status in HAS_CERT_STATUSES or status == P.STATUS_PENDING_CA_ISSUED,
            ("isCSRSubmited" if self.settings["answer_casing"] == "v109" else "isCSRSubmitted"): True,
            "isCustomerInfoFilled": True,
            self.settings["status_key"]: status,
            "isPay": order["is_pay"],
            "pendingLink": self.pending_link(order),
        }
        if order.get("bound_order"):
            data[self.order_key("orderId_RSA") if order["kind"] == "sm2" else self.order_key("orderId")] = \
                order["bound_order"]
        return data


# ---------------------------------------------------------------------------
# envelope

def envelope(sb, endpoint, data=None, error=None, success_msg="", http_status=200):
    body = {
        "isSuccess": error is None,
        "errorMsg": error if error is not None else "",
        "successMsg": "" if error is not None else success_msg,
        "data": data if error is None else None,
        "page": sb.page(endpoint),
    }
    return web.Response(status=http_status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json", charset="utf-8")


def endpoint_of(request):
    mi = request.match_info
    if getattr(mi, "http_exception", None) is not None:
        return None
    try:
        canonical = mi.route.resource.canonical
    except AttributeError:
        return None
    return "%s %s" % (request.method, canonical)


def sub_app_path(path):
    return path.startswith(("/sectigo/", "/jintong/")) or path in ("/sectigo", "/jintong")


# ---------------------------------------------------------------------------
# middleware: count, log, token, faults

def make_middleware(sb):
    @web.middleware
    async def api_middleware(request, handler):
        if sub_app_path(request.path):
            return await handler(request)
        endpoint = endpoint_of(request)
        name = endpoint if endpoint in ENDPOINTS else (endpoint or "%s (no route)" % request.method)
        sb.store.count(name)
        sb.store.count("total")
        rid = request.headers.get(P.REQUEST_ID_HEADER, "-")
        started = time.monotonic()
        status = None
        try:
            if endpoint == "GET " + PENDING_LINK_PATH:
                resp = await handler(request)
            elif not sb.token_ok(request.headers.get(P.TOKEN_HEADER)):
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
            log.info("%s %s RequestID=%s -> %s (%.0f ms)", request.method, request.path_qs, rid, status,
                     (time.monotonic() - started) * 1000)

    return api_middleware


def _drop(request):
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError()


async def apply_fault(sb, request, handler, endpoint, fault):
    kind = fault["kind"]
    log.info("fault %s on %s (RequestID=%s)", kind, endpoint, request.headers.get(P.REQUEST_ID_HEADER, "-"))
    if kind == "slow":
        await asyncio.sleep(fault["delay"])
        return await handler(request)
    if fault["execute"]:
        try:
            await handler(request)
        except web.HTTPException:
            pass
    if kind in ("reset", "commit_then_drop"):
        _drop(request)
    headers = {}
    if fault.get("retry_after") is not None:
        headers["Retry-After"] = str(int(fault["retry_after"]) if float(fault["retry_after"]).is_integer()
                                     else fault["retry_after"])
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


# ---------------------------------------------------------------------------
# request helpers

async def read_body(request, sb):
    ctype = request.headers.get("Content-Type", "")
    if ctype.split(";")[0].strip().lower() != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"isSuccess": False, "errorMsg": "Content-Type must be application/json",
                             "successMsg": "", "data": None, "page": None}),
            content_type="application/json")
    raw = await request.read()
    try:
        return V.parse_json_object(raw)
    except Invalid as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"isSuccess": False, "errorMsg": str(exc), "successMsg": "", "data": None,
                             "page": None}, ensure_ascii=False),
            content_type="application/json") from None


def _csr_identity(text):
    """A CSR compared by what it asks for (its signed content), not by its bytes: an ECDSA CSR
    signed again by the same key for the same names is the same request."""
    try:
        from cryptography import x509
        csr = x509.load_pem_x509_csr(text.strip().replace("\r\n", "\n")
                                     .replace("NEW CERTIFICATE REQUEST", "CERTIFICATE REQUEST").encode())
        return "csr-sha256:" + hashlib.sha256(csr.tbs_certrequest_bytes).hexdigest()
    except (ValueError, AttributeError):
        return text


def fingerprint(op, body):
    stripped = json.loads(json.dumps(body))
    if op == "create":
        info = stripped.get("orderinfopost") or {}
        info.pop("idempotenceid", None)
        for k in ("csr_rsa", "csr_sign", "csr_encrypt"):
            if isinstance(info.get(k), str) and info[k].strip():
                info[k] = _csr_identity(info[k])
    else:
        stripped.pop("idempotenceid", None)
        for k in ("csr", "csr_encrypt"):
            if isinstance(stripped.get(k), str) and stripped[k].strip():
                stripped[k] = _csr_identity(stripped[k])
    canon = json.dumps([op, stripped], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def new_order(sb, *, op, product_id, product, common_name, hosts, month, request, csrs, idempotence_id,
              now, seq, **extra):
    oid = str(uuid.uuid4()).upper()
    order = {
        "id": oid, "seq": seq,
        "order_number": time.strftime("%y%m%d%H%M%S", time.localtime(now)) + "%03d" % (seq % 1000),
        "op": op, "idempotence_id": idempotence_id, "product_id": product_id, "kind": product["kind"],
        "status": product["path"][0], "path": list(product["path"]), "step": 0, "entered": now, "next_due": None,
        "is_pay": P.IS_PAY_UNPAID if sb.settings["unpaid"] else P.IS_PAY_PAID,
        "common_name": common_name, "hosts": hosts, "month": month, "request": request, "csrs": csrs,
        "created": now, "reissued_from": None, "reissued_to": None, "bound_order": None, "revoke_on_issue": None,
        "revoke_reason": None, "cancel_reason": None, "issued_at": None, "revoked_at": None,
    }
    order.update(extra)
    sb.store.insert_order(order)
    if product.get("backend") == "sectigo":
        dcv.register(sb, order)  # same orderNumber in the Sectigo sub-app, names pending DCV
    return order


def check_names(sb, kind, csr, common_name, hosts, field):
    if not sb.settings["check_csr_names"]:
        return
    if kind == "document":
        sb.ca.check_subject_cn(csr, common_name, field)
    else:
        sb.ca.check_ssl_names(csr, common_name, hosts, field)


def check_ssl_names_syntax(common_name, hosts):
    for n in [common_name] + hosts:
        if not (is_ip(n) or valid_dns_name(n)):
            raise Invalid("%r is not a valid domain name or IP address" % n)


def idempotent_replay(sb, ep, key, fp, op, what, answer, success_msg):
    """The envelope for an idempotenceID seen before (inside the caller's transaction), or None.

    The same key with the same request (``fp``) and ``op`` answers again what
    the first call answered: ``answer(order_id)`` of the order it made. The
    same key with anything else is refused; ``what`` names what a new key is for.
    """
    if key is None:
        return None
    seen = sb.store.idempotence_lookup(key)
    if seen is None:
        return None
    if seen["fingerprint"] != fp or seen["op"] != op:
        return envelope(sb, ep, error=(
            "idempotenceID %r was already used for order %s with different parameters; "
            "use a new idempotenceID for a different %s" % (key, seen["order_id"], what)))
    return envelope(sb, ep, data=answer(seen["order_id"]), success_msg=success_msg)


# ---------------------------------------------------------------------------
# handlers

def make_handlers(sb):
    async def create(request):
        ep = "POST /v1/Order/Create"
        body = await read_body(request, sb)
        accept = sb.settings["accept_unknown_keys"]
        try:
            V.check_keys(body, V.CREATE_KEYS, "the body", accept)
            info = body.get("orderinfopost")
            if not isinstance(info, dict):
                raise Invalid("orderInfoPost is required (an object)")
            V.check_keys(info, V.ORDER_INFO_KEYS, "orderInfoPost", accept)
            product_id = V.req_str(info, "productid", "orderInfoPost").upper()
            product = sb.settings["products"].get(product_id)
            if product is None:
                raise Invalid("unknown productID %s: this account has no such product (known: %s)"
                              % (product_id, ", ".join(sorted(sb.settings["products"]))))
            kind = product["kind"]
            common_name = V.req_str(info, "commonname", "orderInfoPost", 64)
            month = V.int_value(info, "month", "orderInfoPost")
            if month not in P.MONTHS:
                raise Invalid("orderInfoPost.month %s is not one of %s (13 and 25 are renewals)"
                              % (month, ", ".join(map(str, P.MONTHS))))
            hosts = V.hosts_value(info.get("hosts"))
            key = V.idempotence_id(info, "orderInfoPost")
            for k in ("ukeypassword", "ukeyshipaddress"):
                V.opt_str(info, k, "orderInfoPost", 256)
            org = V.organization(body.get("organizationpost"), accept)
            docs = V.documents(body.get("documentspost"), accept, sb.settings["check_file_magic"])
            csr_rsa = V.opt_str(info, "csr_rsa", "orderInfoPost")
            csr_sign = V.opt_str(info, "csr_sign", "orderInfoPost")
            csr_enc = V.opt_str(info, "csr_encrypt", "orderInfoPost")
            bind = V.opt_str(info, "bindrsaproductid", "orderInfoPost").upper()
            csrs = {}
            bound = None
            if kind in ("document", "ssl"):
                if kind == "document":
                    if hosts:
                        raise Invalid("orderInfoPost.hosts is not used by document-signing products; "
                                      "leave it empty")
                else:
                    check_ssl_names_syntax(common_name, hosts)
                if csr_sign or csr_enc or bind:
                    raise Invalid("csr_Sign / csr_Encrypt / bindRSAProductID are for SM2 products only")
                if not csr_rsa.strip():
                    raise Invalid("orderInfoPost.csr_RSA is required")
                csr = sb.ca.load_csr(csr_rsa, "csr_RSA")
                check_names(sb, kind, csr, common_name, hosts, "csr_RSA")
                csrs["rsa"] = csr_rsa
            else:  # sm2
                check_ssl_names_syntax(common_name, hosts)
                if not csr_sign.strip():
                    raise Invalid("orderInfoPost.csr_Sign (the SM2 signing CSR) is required for SM2 products")
                csr = sb.ca.load_csr(csr_sign, "csr_Sign")
                check_names(sb, "ssl", csr, common_name, hosts, "csr_Sign")
                csrs["sign"] = csr_sign
                csrs["encrypt"] = csr_enc if csr_enc.strip() else csr_sign
                if csr_enc.strip():
                    csr_e = sb.ca.load_csr(csr_enc, "csr_Encrypt")
                    check_names(sb, "ssl", csr_e, common_name, hosts, "csr_Encrypt")
                if csr_rsa.strip():
                    bind = bind or P.PRODUCT_SSL_EXAMPLE
                    bound = sb.settings["products"].get(bind)
                    if bound is None or bound["kind"] != "ssl":
                        raise Invalid("bindRSAProductID %s is not an RSA SSL product of this account" % bind)
                    csr_r = sb.ca.load_csr(csr_rsa, "csr_RSA")
                    check_names(sb, "ssl", csr_r, common_name, hosts, "csr_RSA")
                elif bind:
                    raise Invalid("bindRSAProductID needs csr_RSA (the CSR of the bound RSA order)")
        except (Invalid, CsrError) as exc:
            return envelope(sb, ep, error=str(exc))

        fp = fingerprint("create", body)
        request_rec = {k: info.get(k) for k in ("ukeypassword", "ukeyshipaddress") if info.get(k)}
        request_rec.update(org=org, documents=docs)
        now = time.time()
        with sb.store.tx():
            replay = idempotent_replay(sb, ep, key, fp, "create", "order",
                                       lambda oid: create_answer(sb, sb.store.get_order(oid)), "success")
            if replay is not None:
                return replay
            seq = sb.store.next_seq()
            order = new_order(sb, op="create", product_id=product_id, product=product, common_name=common_name,
                              hosts=hosts, month=month, request=request_rec, csrs=csrs, idempotence_id=key,
                              now=now, seq=seq)
            if bound is not None:
                rsa_order = new_order(sb, op="bound", product_id=bind, product=bound, common_name=common_name,
                                      hosts=hosts, month=month, request=request_rec, csrs={"rsa": csr_rsa},
                                      idempotence_id=None, now=now, seq=seq + 1, bound_order=order["id"])
                sb.store.update_order(order["id"], bound_order=rsa_order["id"])
                order["bound_order"] = rsa_order["id"]
                states.enter(sb, rsa_order, rsa_order["path"][0], now)
            events = []
            states.enter(sb, order, order["path"][0], now, events)
            if key is not None:
                sb.store.idempotence_insert(key, fp, order["id"], "create")
        sb.dispatch(events)
        return envelope(sb, ep, data=create_answer(sb, order), success_msg="success")

    async def get_order(request):
        ep = "GET /v1/Order/{id}"
        oid = request.match_info["id"]
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid.strip())
        return envelope(sb, ep, data=sb.order_data(order), success_msg="success")

    async def retrieve(request):
        ep = "GET /v1/Certificate/RetrievePem"
        query = {k.lower(): v for k, v in request.query.items()}
        if not sb.settings["accept_unknown_keys"]:
            unknown = sorted(set(query) - {"orderid"})
            if unknown:
                return envelope(sb, ep, error="unknown query parameter(s): %s (accepted: orderID)"
                                % ", ".join(unknown))
        oid = (query.get("orderid") or "").strip()
        if not oid:
            return envelope(sb, ep, error="orderID is required (?orderID=...)")
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid)
        certs = sb.store.certs_of(order["id"])
        if order["status"] not in HAS_CERT_STATUSES or not certs:
            return envelope(sb, ep, error="the certificate is not issued yet (status %s%s)" % (
                order["status"], ", isPay 0: waiting for payment" if order["is_pay"] == P.IS_PAY_UNPAID else ""))
        latest = {}
        for c in certs:
            latest[c["usage"]] = c
        chain = sb.chain()
        data = {}
        for usage, suffix in (("rsa", "RSA"), ("sign", "Sign"), ("encrypt", "Encrypt")):
            c = latest.get(usage)
            data["pem_" + suffix] = c["pem"] if c else None
            data["chains_" + suffix] = list(chain) if c else []
        data["result"] = True
        return envelope(sb, ep, data=data, success_msg="success")

    async def cancel(request):
        ep = "POST /v1/Order/Cancel"
        body = await read_body(request, sb)
        try:
            V.check_keys(body, V.CANCEL_KEYS, "the body", sb.settings["accept_unknown_keys"])
            oid = V.order_id(body)
            reason = V.opt_str(body, "reason", "", 1000)
        except Invalid as exc:
            return envelope(sb, ep, error=str(exc))
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid)
        with sb.store.tx():
            order = sb.store.get_order(oid)
            refusal = CANCEL_REFUSALS.get(order["status"])
            if refusal is None and order["status"] not in C.PATH_STEPS:
                refusal = "订单状态 %s 不能取消 (an order in status %s cannot be cancelled)" % (
                    order["status"], order["status"])
            if refusal is None:
                sb.store.update_order(order["id"], cancel_reason=reason)
                states.enter(sb, order, P.STATUS_CLOSED)
        if refusal is not None:
            return envelope(sb, ep, data={"cancelResult": False, "cancelFailedReason": refusal})
        return envelope(sb, ep, data={"cancelResult": True, "cancelFailedReason": ""}, success_msg="success")

    async def revoke(request):
        ep = "POST /v1/Certificate/RevokeRequest"
        body = await read_body(request, sb)
        try:
            V.check_keys(body, V.REVOKE_KEYS, "the body", sb.settings["accept_unknown_keys"])
            oid = V.order_id(body, name="orderId")
            reason = V.req_str(body, "reason", "", 1000)
            V.file_content(body, "", sb.settings["check_file_magic"])
        except Invalid as exc:
            return envelope(sb, ep, error=str(exc))
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid)
        with sb.store.tx():
            order = sb.store.get_order(oid)
            status = order["status"]
            live = [c for c in sb.store.certs_of(order["id"]) if c["revoked_at"] is None]
            if status == P.STATUS_PENDING_REVOKE:
                return envelope(sb, ep, error="the certificate of order %s is already pending revocation "
                                              "(status pendingRevoke)" % order["id"])
            if status == P.STATUS_REVOKED or (status in HAS_CERT_STATUSES and not live):
                return envelope(sb, ep, error="the certificate of order %s is already revoked" % order["id"])
            if status not in (P.STATUS_ISSUED, P.SANDBOX_REISSUED_STATUS):
                return envelope(sb, ep, error="only an issued certificate can be revoked (order %s is in status %s)"
                                % (order["id"], status))
            sb.store.update_order(order["id"], revoke_reason=reason)
            order["revoke_reason"] = reason
            states.enter(sb, order, P.STATUS_PENDING_REVOKE)
        return envelope(sb, ep, data={"revokeStatus": "pendingAudit", "revoked": False}, success_msg="申请吊销成功")

    async def reissue(request):
        ep = "POST /v1/Certificate/ReissueRequest"
        body = await read_body(request, sb)
        try:
            V.check_keys(body, V.REISSUE_KEYS, "the body", sb.settings["accept_unknown_keys"])
            oid = V.order_id(body)
            csr_text = V.req_str(body, "csr", "", None)
            V.req_str(body, "reason", "", 1000)
            csr_enc = V.opt_str(body, "csr_encrypt", "")
            key = V.idempotence_id(body, "the body")
        except Invalid as exc:
            return envelope(sb, ep, error=str(exc))
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid)
        product = sb.settings["products"].get(order["product_id"]) or {
            "kind": order["kind"], "backend": "wotrus", "path": C.PATH_AUTO}
        kind = order["kind"]
        proof_needed = kind == "sm2" or product.get("backend") == "sectigo"
        try:
            V.file_content(body, "", sb.settings["check_file_magic"], required=proof_needed)
            if kind == "sm2":
                if not csr_enc.strip():
                    raise Invalid("csR_Encrypt is required to reissue an SM2 certificate")
            elif csr_enc.strip():
                raise Invalid("csR_Encrypt is for SM2 products only")
            field = "csr"
            csr = sb.ca.load_csr(csr_text, field)
            check_names(sb, "ssl" if kind == "sm2" else kind, csr, order["common_name"], order["hosts"], field)
            if kind == "sm2":
                csr_e = sb.ca.load_csr(csr_enc, "csR_Encrypt")
                check_names(sb, "ssl", csr_e, order["common_name"], order["hosts"], "csR_Encrypt")
        except (Invalid, CsrError) as exc:
            return envelope(sb, ep, error=str(exc))
        fp = fingerprint("reissue", body)
        now = time.time()
        with sb.store.tx():
            replay = idempotent_replay(sb, ep, key, fp, "reissue", "request",
                                       lambda oid: {"newOrderID": oid}, "申请重新颁发成功")
            if replay is not None:
                return replay
            order = sb.store.get_order(order["id"])
            if order["status"] != P.STATUS_ISSUED:
                return envelope(sb, ep, error="only an issued order can be reissued (order %s is in status %s)"
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
            states.enter(sb, order, P.SANDBOX_REISSUED_STATUS, now)
            events = []
            states.enter(sb, new, new["path"][0], now, events)
            if key is not None:
                sb.store.idempotence_insert(key, fp, new["id"], "reissue")
        sb.dispatch(events)
        return envelope(sb, ep, data={"newOrderID": new["id"]}, success_msg="申请重新颁发成功")

    async def notify(request):
        ep = "POST /v1/Notification/email"
        body = await read_body(request, sb)
        try:
            V.check_keys(body, V.NOTIFY_KEYS, "the body", sb.settings["accept_unknown_keys"])
            oid = V.order_id(body)
            url = V.url_value(body, "collecturl", "")
        except Invalid as exc:
            return envelope(sb, ep, error=str(exc))
        order = states.advance(sb, oid)
        if order is None:
            return envelope(sb, ep, error="order %s not found" % oid)
        sent = order["status"] == P.STATUS_ISSUED
        sb.store.log_notification(time=time.time(), order_id=order["id"], collect_url=url, status=order["status"],
                                  sent=int(sent), request_id=request.headers.get(P.REQUEST_ID_HEADER))
        return envelope(sb, ep, data={"sentResult": sent}, success_msg="success" if sent else "")

    async def pending_link(request):
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

    return dict(create=create, get_order=get_order, retrieve=retrieve, cancel=cancel, revoke=revoke,
                reissue=reissue, notify=notify, pending_link=pending_link)


def create_answer(sb, order):
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


def create_api_app(sb, sub_apps=None):
    app = web.Application(middlewares=[make_middleware(sb)], client_max_size=32 * 1024 * 1024)
    h = make_handlers(sb)
    app.router.add_post(P.PATH_CREATE, h["create"])
    app.router.add_post(P.PATH_CANCEL, h["cancel"])
    app.router.add_get(P.PATH_ORDER.replace("{order_id}", "{id}"), h["get_order"])
    app.router.add_get(P.PATH_RETRIEVE_PEM, h["retrieve"])
    app.router.add_post(P.PATH_REVOKE, h["revoke"])
    app.router.add_post(P.PATH_REISSUE, h["reissue"])
    app.router.add_post(P.PATH_NOTIFY, h["notify"])
    app.router.add_get(PENDING_LINK_PATH, h["pending_link"])
    for prefix, sub in (sub_apps or {}).items():
        app.add_subapp(prefix, sub)
    return app

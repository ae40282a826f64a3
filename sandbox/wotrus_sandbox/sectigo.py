# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Sectigo ``!getPostPaymentStatus`` + document upload service for tests.

Mounted by the sandbox at ``/sectigo`` on its HTTPS and its plain-HTTP ports:

* ``POST /products/!getPostPaymentStatus`` (form; names case-insensitive):
  -17 to any other method, -1 over plain HTTP, -2 unknown argument,
  -3 missing argument, -4 invalid value, -16 wrong login or session, -42 past
  ``call_limit`` calls in ``call_limit_window`` seconds. Failures carry a
  *string* ``errorCode`` (as in the text's failure example), success a number.
* ``POST /upload`` (multipart ``token``, ``file``..., ``comment``,
  ``successURL``, ``errorURL``): the token must be a JWT (HS256) this service
  issued for the order, not expired. Redirects (303) to ``successURL`` /
  ``errorURL?error=...`` when given, otherwise answers JSON.
* ``/_manage/...`` for tests: register orders from a CSR, change their state,
  read uploaded documents, reset the call counter.

Settings (all optional): ``login_name`` (``sandbox``), ``login_password``
(``sandbox-password``), ``sasp_sessions`` (list of valid session IDs),
``call_limit`` (0 = no limit), ``call_limit_window`` (seconds, 60),
``token_secret`` (random), ``token_ttl`` (seconds, 3600), ``manage_token``
(when set, ``/_manage`` needs header ``X-Sandbox-Token``), ``orders`` (list of
order definitions, as for ``POST /_manage/orders``).

The CSR-hash DCV values (MD5 and SHA-256 of the DER CSR in upper-case hex,
the methods a name allows) come from the collection's
``plugins/module_utils/_sectigo/dcv.py``: the stand-in offers exactly what the
collection reads.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlencode

from aiohttp import web

from cryptography import x509

from wotrus_sandbox import subapp
from wotrus_sandbox.ca import csr_der
from wotrus_sandbox.collection import sectigo_dcv

ENDPOINT = "/products/!getPostPaymentStatus"
STATE_FILE = "sectigo_state.json"

ERRORS = {
    -1: "Request was not made over https!",
    -2: "'%s' is an unrecognized argument!",
    -3: "The '%s' argument is missing!",
    -4: "The value of the '%s' argument is invalid!",
    -14: "An unknown error occurred!",
    -16: "Incorrect login details, account is locked, password has expired or your source IP is blocked.",
    -17: "Request used GET rather than POST!",
    -42: "Call limit reached! Please try again later",
}
KNOWN_ARGS = {"loginname": "loginName", "loginpassword": "loginPassword", "ordernumber": "orderNumber",
              "certificateid": "certificateID", "saspsessionid": "saspSessionID"}
STATUS_ENUM = ("NotApplicable", "ActionRequired", "Completed", "InProgress", "Unknown")
ORDER_STATUSES = ("Current", "Awaiting Payment", "Payment Promised", "Pending", "Awaiting Authorization",
                  "Processed", "Rejected", "Refunded", "ERROR!!!")

STATE_KEY = web.AppKey("sectigo_state", dict)


# -- small JWT (HS256) -------------------------------------------------------
def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(claims, secret):
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = ("%s.%s" % (header, payload)).encode("ascii")
    signature = _b64(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return "%s.%s.%s" % (header, payload, signature)


def jwt_decode(token, secret, now=None):
    """Claims of a valid token; raises ValueError with the reason."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        claims = json.loads(_unb64(payload_b64))
        signature = _unb64(signature_b64)
    except Exception:
        raise ValueError("malformed token")
    if header.get("alg") != "HS256":
        raise ValueError("unsupported token algorithm")
    expected = hmac.new(secret.encode(), ("%s.%s" % (header_b64, payload_b64)).encode("ascii"),
                        hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise ValueError("bad token signature")
    if (now or time.time()) >= claims.get("exp", 0):
        raise ValueError("token expired")
    return claims


# -- orders --------------------------------------------------------------------
def csr_hashes(csr_pem):
    """``(MD5, SHA256, names)`` of a PEM CSR: the collection's ``csr_hashes`` of its DER form, and its names.

    The status answer and the WoTrus sandbox's HTTP DCV check (``dcv.py``) both use it.
    """
    der = csr_der(csr_pem)
    csr = x509.load_der_x509_csr(der)
    names = [a.value for a in csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.extend(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    md5, sha256 = sectigo_dcv.csr_hashes(der)
    return md5, sha256, seen


def _section(title, status, description=None, **extra):
    section = {"title": title, "status": status}
    if description:
        section["description"] = description
    section.update(extra)
    return section


def _methods(domain):
    base = sectigo_dcv.base_domain(domain)
    csr_options = sectigo_dcv.csr_hash_methods(domain)
    return [
        {"type": "email", "title": "Alternative Email Addresses", "level": 2,
         "options": ["%s@%s" % (box, base) for box in ("admin", "administrator", "hostmaster", "postmaster",
                                                       "webmaster")]},
        {"type": "csrHash", "title": "Alternative Methods", "options": csr_options},
        {"type": "manual", "title": "None of the above", "options": ["Manual"]},
    ]


def make_order(definition):
    """An order record from ``{order_number, csr, domains?, unique_value?, ...}``."""
    number = str(definition.get("order_number") or "").strip()
    if not number.isdigit():
        raise ValueError("order_number must be digits")
    order = {
        "order_number": number,
        "certificate_id": definition.get("certificate_id"),
        "product_type": int(definition.get("product_type", 410)),
        "product_name": definition.get("product_name", "Sectigo OV Multi-Domain SSL (sandbox)"),
        "order_status": definition.get("order_status", "Pending"),
        "md5": definition.get("md5"),
        "sha256": definition.get("sha256"),
        "unique_value": definition.get("unique_value"),
        "domains": list(definition.get("domains") or []),
        "domain_status": dict(definition.get("domain_status") or {}),
        # domain -> the method that completed it (HTTP CSR Hash when the sandbox fetched the file)
        "domain_method": dict(definition.get("domain_method") or {}),
        # set when the WoTrus sandbox registered this order for one of its own (backend: sectigo)
        "wotrus_order_id": definition.get("wotrus_order_id"),
        "organization_status": definition.get("organization_status", "InProgress"),
        "documents": [],
    }
    if definition.get("csr"):
        md5, sha256, names = csr_hashes(definition["csr"])
        order["md5"], order["sha256"] = md5, sha256
        if not order["domains"]:
            order["domains"] = names
    if not order["domains"]:
        raise ValueError("an order needs domains (or a CSR that names them)")
    if order["order_status"] not in ORDER_STATUSES:
        raise ValueError("order_status must be one of %s" % ", ".join(ORDER_STATUSES))
    return order


def order_data(order, upload_url, token):
    domains = order["domains"]
    domain_entries = []
    for name in domains:
        state = order["domain_status"].get(name, "notCompleted")
        method = (order.get("domain_method") or {}).get(name) or sectigo_dcv.METHOD_CNAME
        domain_entries.append({"domainName": name, "dcvStatus": state,
                               "selectedMethod": "Not yet set" if state != "Completed" else method,
                               "methods": _methods(name)})
    all_done = all(d["dcvStatus"] == "Completed" for d in domain_entries)
    dcv = _section("Domain Control Validation", "Completed" if all_done else "ActionRequired",
                   "In order to verify your ownership of the domain in the application, it is mandatory to "
                   "complete domain control validation.",
                   MD5=order["md5"], SHA256=order["sha256"], domains=domain_entries,
                   availableActions=[] if all_done else ["selectDCVMethod"])
    if order["unique_value"]:
        dcv["uniqueValue"] = order["unique_value"]
    data = {
        "orderNumber": int(order["order_number"]),
        "productType": order["product_type"],
        "productName": order["product_name"],
        "certificateDuration": 365,
        "productTerm": 365,
        "uploadDocumentUrl": upload_url,
        "uploadDocumentToken": token,
        "orderStatus": order["order_status"],
        "domainName": domains[0] if len(domains) == 1 else "Multiple domains",
        "csrStatus": _section("Submit your CSR", "Completed", "You have already submitted your CSR.",
                              availableActions=["canReplaceCSR"]),
        "dcvStatus": dcv,
        "agreementStatus": _section("Agreement Execution", "Completed", clickThroughStatus="Executed"),
        "callbackStatus": _section("Signer Verification", "InProgress"),
        "organizationStatus": _section(
            "Organization Validation", order["organization_status"],
            availableActions=["uploadDocument"] if order["organization_status"] != "Completed" else [],
            organizationName=_section("Organization name", "Unknown"),
            trademarkCheck=_section("Trademark check", "NotApplicable")),
        "secondApprovalStatus": _section("Second Approval", "NotApplicable"),
        "fsupStatus": _section("Fast Service Certificate", "NotApplicable"),
    }
    if len(domains) > 1:
        data["primaryDomainName"] = domains[0]
        data["maxMDCDomains"] = max(3, len(domains))
        data["maxMDCWildcardDomains"] = sum(1 for d in domains if d.startswith("*."))
    return data


# -- the app ---------------------------------------------------------------
def _error(code, item=None):
    message = ERRORS[code]
    if "%s" in message:
        message = message % (item or "")
    # Failures carry errorCode as a string, as in the text's example.
    return web.json_response({"errorCode": str(code), "errorMessage": message, "data": {}})


def _is_https(request):
    return request.secure or request.scheme == "https"


class _State(subapp.OrderState):
    def __init__(self, settings, state_dir):
        self.login_name = settings.get("login_name", "sandbox")
        self.login_password = settings.get("login_password", "sandbox-password")
        self.sessions = list(settings.get("sasp_sessions") or [])
        self.call_limit = int(settings.get("call_limit", 0) or 0)
        self.window = float(settings.get("call_limit_window", 60))
        self.secret = settings.get("token_secret") or secrets.token_hex(32)
        self.token_ttl = int(settings.get("token_ttl", 3600))
        self.calls = collections.deque()
        self.stats = {"calls": 0, "limited": 0, "uploads": 0}
        super().__init__(settings, state_dir, STATE_FILE, make_order, "order_number")

    # -- used by the WoTrus sandbox (dcv.py) for its backend: sectigo orders --------
    def register(self, definition):
        """Add (or replace) an order from a ``make_order`` definition; saved at once."""
        order = make_order(definition)
        self.add(order)
        return order

    def set_domain_completed(self, number, domain, method=sectigo_dcv.METHOD_HTTP):
        order = self.orders.get(str(number))
        if order is None:
            return False
        order["domain_status"][domain] = "Completed"
        order.setdefault("domain_method", {})[domain] = method
        self.save()
        return True

    def forget_wotrus_orders(self):
        """Drop the orders the WoTrus sandbox registered (its ``/reset``); keep the others."""
        before = len(self.orders)
        self.orders = {n: o for n, o in self.orders.items() if not o.get("wotrus_order_id")}
        if len(self.orders) != before:
            self.save()

    def over_limit(self):
        if not self.call_limit:
            return False
        now = time.monotonic()
        while self.calls and now - self.calls[0] >= self.window:
            self.calls.popleft()
        if len(self.calls) >= self.call_limit:
            return True
        self.calls.append(now)
        return False


async def get_post_payment_status(request):
    state = request.app[STATE_KEY]
    if request.method != "POST":
        return _error(-17)
    if not _is_https(request):
        return _error(-1)
    state.stats["calls"] += 1
    if state.over_limit():
        state.stats["limited"] += 1
        return _error(-42)
    form = await request.post()
    args = {}
    for name, value in form.items():
        canonical = KNOWN_ARGS.get(name.lower())
        if canonical is None:
            return _error(-2, name)
        if not isinstance(value, str):
            return _error(-4, canonical)
        args[canonical] = value
    session = args.get("saspSessionID")
    if session is not None:
        if "loginName" in args or "loginPassword" in args:
            return _error(-2, "loginName" if "loginName" in args else "loginPassword")
        if not any(hmac.compare_digest(session.encode(), s.encode()) for s in state.sessions):
            return _error(-16)
    else:
        for name in ("loginName", "loginPassword"):
            if name not in args:
                return _error(-3, name)
        # Both compared, in constant time, before deciding.
        name_ok = hmac.compare_digest(args["loginName"].encode(), state.login_name.encode())
        password_ok = hmac.compare_digest(args["loginPassword"].encode(), state.login_password.encode())
        if not (name_ok and password_ok):
            return _error(-16)
    number = args.get("orderNumber")
    if number is None:
        return _error(-3, "orderNumber")
    number = number.strip()
    if not number.isdigit() or len(number) > 64 or number not in state.orders:
        return _error(-4, "orderNumber")
    order = state.orders[number]
    certificate_id = args.get("certificateID")
    if certificate_id is not None:
        if not certificate_id.isdigit() or len(certificate_id) > 16:
            return _error(-4, "certificateID")
        if order.get("certificate_id") is not None and str(order["certificate_id"]) != certificate_id:
            return _error(-4, "certificateID")
    now = int(time.time())
    token = jwt_encode({"sub": number, "scopes": ["POST_PAYMENT_UPLOAD"], "iss": "wotrus-sandbox",
                        "iat": now, "exp": now + state.token_ttl}, state.secret)
    upload_url = str(request.url.origin()) + str(request.app.router["sectigo-upload"].url_for())
    return web.json_response({"errorCode": 0, "errorMessage": "", "data": order_data(order, upload_url, token)})


def _upload_failure(error_url, status, reason):
    if error_url:
        separator = "&" if "?" in error_url else "?"
        raise web.HTTPSeeOther(error_url + separator + urlencode({"error": reason}))
    return web.json_response({"success": False, "error": reason}, status=status)


async def upload(request):
    state = request.app[STATE_KEY]
    if not _is_https(request):
        return web.json_response({"success": False, "error": "HTTPS required"}, status=403)
    if not request.content_type.startswith("multipart/"):
        return web.json_response({"success": False, "error": "multipart/form-data required"}, status=415)
    fields, files = {}, []
    reader = await request.multipart()
    async for part in reader:
        if part.filename is not None:
            content = await part.read(decode=False)
            files.append({"name": part.filename, "size": len(content),
                          "sha256": hashlib.sha256(content).hexdigest(),
                          "content_type": part.headers.get("Content-Type", "application/octet-stream")})
        else:
            fields[part.name] = (await part.text())
    error_url = fields.get("errorURL")
    success_url = fields.get("successURL")
    token = fields.get("token")
    if not token:
        return _upload_failure(error_url, 401, "missing token")
    try:
        claims = jwt_decode(token, state.secret)
    except ValueError as exc:
        return _upload_failure(error_url, 401, str(exc))
    order = state.orders.get(str(claims.get("sub")))
    if order is None:
        return _upload_failure(error_url, 404, "unknown order")
    if not files:
        return _upload_failure(error_url, 400, "no file")
    comment = fields.get("comment", "")
    for item in files:
        item["comment"] = comment
        item["uploaded_at"] = int(time.time())
        order["documents"].append(item)
    state.stats["uploads"] += len(files)
    state.save()
    if success_url:
        raise web.HTTPSeeOther(success_url)
    return web.json_response({"success": True, "documents": files})


# -- management (tests only; the shared routes are in subapp.py) ------------------
async def manage_update_order(request):
    """Change ``order_status``, ``organization_status``, ``domain_status`` {domain: state}, ``unique_value``."""
    state = request.app[STATE_KEY]
    order = state.orders.get(request.match_info["number"])
    if order is None:
        return subapp.no_such_order()
    changes = await request.json()
    for key in ("order_status", "organization_status", "unique_value", "certificate_id"):
        if key in changes:
            order[key] = changes[key]
    if "domain_status" in changes:
        order["domain_status"].update(changes["domain_status"])
    state.save()
    return web.json_response(order)


async def manage_reset_calls(request):
    state = request.app[STATE_KEY]
    state.calls.clear()
    changes = {}
    if request.can_read_body:
        changes = await request.json()
    if "call_limit" in changes:
        state.call_limit = int(changes["call_limit"] or 0)
    if "call_limit_window" in changes:
        state.window = float(changes["call_limit_window"])
    return web.json_response({"call_limit": state.call_limit, "call_limit_window": state.window})


_shared_state = subapp.SharedStates(_State)


def shared_state(settings, state_dir):
    """The state every copy of the app for ``state_dir`` uses (one object per process and state directory)."""
    return _shared_state(settings or {}, state_dir)


def create_app(settings, state_dir):
    """The Sectigo sub-application (mount it at ``/sectigo``)."""
    app = web.Application(middlewares=[subapp.manage_auth(STATE_KEY)], client_max_size=32 * 1024 * 1024)
    app[STATE_KEY] = _shared_state(settings or {}, state_dir)
    app.router.add_route("*", ENDPOINT, get_post_payment_status)
    app.router.add_post("/upload", upload, name="sectigo-upload")
    subapp.add_manage_routes(app, STATE_KEY, "number")
    app.router.add_post("/_manage/orders/{number}", manage_update_order)
    app.router.add_post("/_manage/calls/reset", manage_reset_calls)
    return app

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every knob of the sandbox, with its default, in one place.

``sandbox/README.md`` lists the same knobs; keep them together. Knobs come from
the defaults below, then ``--config FILE.json``, then CLI flags, and can be
changed at runtime with ``POST /config`` on the management API (not persisted:
a restart reads the file and the flags again).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re

from wotrus_sandbox.collection import protocol

ANSWER_CASINGS = ("v106", "v109")
STATUS_KEYS = ("status", "Status")
PAGE_STYLES = ("seeds", "null", "object")
RSA_ORDER_ID_FIELDS = ("orderId", "orderId_RSA", "both")
KINDS = ("ssl", "sm2", "document")
BACKENDS = ("wotrus", "sectigo")
DCV_MODES = ("delay", "http")
# cross_sign: false = [root A, issuing under A]; true = [root A, cross (B by A), issuing under B];
# "r2-self-signed" = [root B, cross (B by A), issuing under B]. roots.pem holds A and B unless false.
CROSS_SIGN_R2_SELF_SIGNED = "r2-self-signed"
CROSS_SIGN_VALUES = (False, True, CROSS_SIGN_R2_SELF_SIGNED)

SSL_OV_SECTIGO = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
SM2_PRODUCT = "E2B9C4A1-7D3F-4B8E-9C6A-5F1D2E3B4A7C"

PATH_AUTO = [protocol.STATUS_PENDING_AUTO_ISSUE, protocol.STATUS_ISSUED]
PATH_CA = [protocol.STATUS_PENDING_SUBMIT, protocol.STATUS_PENDING_DCV, protocol.STATUS_PENDING_CA_ISSUED, protocol.STATUS_ISSUED]
PATH_MANUAL = [protocol.STATUS_PENDING, protocol.STATUS_ISSUED]
# A path may end in one of these; every other step must be a pending state.
PATH_ENDS = (protocol.STATUS_ISSUED, protocol.STATUS_REJECTED, protocol.STATUS_CLOSED)
PATH_STEPS = (protocol.STATUS_PENDING_SUBMIT, protocol.STATUS_PENDING_DCV, protocol.STATUS_PENDING_CA_ISSUED,
              protocol.STATUS_PENDING_AUTO_ISSUE, protocol.STATUS_PENDING)

DEFAULT_PRODUCTS = {
    protocol.PRODUCT_SSL_EXAMPLE: {
        "name": "超快 SSL V1", "kind": "ssl", "validation": "dv", "backend": "wotrus", "path": PATH_AUTO,
        "delays": {},
    },
    SSL_OV_SECTIGO: {
        "name": "Sectigo OV SSL (sandbox)", "kind": "ssl", "validation": "ov", "backend": "sectigo",
        "path": PATH_CA, "delays": {}, "dcv_mode": None,
    },
    SM2_PRODUCT: {
        "name": "SM2 SSL (sandbox)", "kind": "sm2", "validation": "ov", "backend": "wotrus", "path": PATH_CA,
        "delays": {},
    },
    protocol.PRODUCT_PDF_SIGNING: {
        "name": "PDF 签名和加密证书", "kind": "document", "backend": "wotrus", "path": PATH_MANUAL, "delays": {},
    },
    protocol.PRODUCT_ORG_DOCUMENT_SIGNING: {
        "name": "单位文档签名证书", "kind": "document", "backend": "wotrus", "path": PATH_MANUAL, "delays": {},
    },
    protocol.PRODUCT_PERSONAL_DOCUMENT_SIGNING: {
        "name": "个人文档签名证书", "kind": "document", "backend": "wotrus", "path": PATH_MANUAL, "delays": {},
    },
}

DEFAULTS = {
    # Seconds an order spends in each pending state before the next one;
    # "default" applies to states not named. Per-product "delays" override.
    "delays": {"default": 0.0},
    # pendingRevoke -> revoked (the provider's human review).
    "revoke_delay": 0.0,
    # Leaf validity in minutes instead of `month` (short-lived certs to test renewal); null = use month.
    "validity_minutes": None,
    # Answer casing: v106 = orderId / orderId_RSA (V1.0.6), v109 = orderID / orderID_RSA (V1.09).
    "answer_casing": "v106",
    # Key of the order status in the order query answer.
    "status_key": "status",
    # page in answers: seeds = as each seed example (null on the order query, {total,limit,skip}
    # on create/retrieve/revoke/reissue, null elsewhere); null = always null; object = always the object.
    "page_style": "seeds",
    # Which Create answer field carries a plain (non-SM2) order's ID.
    "rsa_order_id_field": "orderId",
    # Refuse request keys the parameter tables do not name (catches client typos).
    "accept_unknown_keys": False,
    # Refuse CSRs whose names do not match commonName/hosts.
    "check_csr_names": True,
    # Refuse fileContent whose bytes do not start like the fileType (.jpg/.gif/.pdf).
    "check_file_magic": True,
    # New orders start unpaid (isPay 0) and do not advance until paid
    # (POST /orders/{id}/state {"is_pay": 1}).
    "unpaid": False,
    # Cross-signed chain, intermediate under root B and the cross certificate (B by A) in chains_*;
    # roots.pem holds A and B. true: chains_* = [root A, cross, intermediate] (the cross is needed to reach
    # A); "r2-self-signed": chains_* = [root B, cross, intermediate] (B signs the intermediate itself).
    "cross_sign": False,
    # Put a CRL distribution point (the management /crl URL) in issued leaves.
    "crl_in_leaf": True,
    # Push (8.1): POSTed on issued and on revoked to this URL, signed.
    "push_url": None,
    "push_secret": "sandbox-push-secret",
    "push_header": protocol.PUSH_SIGNATURE_HEADER,
    "push_attempts": protocol.PUSH_MAX_ATTEMPTS,
    "push_retry_delay": 1.0,
    "push_timeout": 5.0,
    # Background state ticker period, seconds.
    "tick_interval": 0.2,
    # Offset used for createTime in answers.
    "utc_offset": "+08:00",
    # Products: ID -> {name, kind: ssl|sm2|document, validation: dv|ov, backend: wotrus|sectigo,
    # path: [states...], delays: {state: seconds}}.
    "products": DEFAULT_PRODUCTS,
    # Domain control validation of backend: sectigo orders in pendingDCV (products may override dcv_mode):
    # delay = the order moves on after its pendingDCV delay; http = only once the sandbox has fetched
    # http://<domain>:<dcv_http_port>/.well-known/pki-validation/<MD5>.txt with the right content for
    # every domain (see dcv.py).
    "dcv_mode": "delay",
    # Names do not resolve here: domain -> loopback address to connect to (Host header = the domain).
    # Only loopback addresses are accepted: the sandbox never sends DCV traffic off the machine.
    "dcv_resolve": {},
    "dcv_http_port": 80,
    # Seconds between two checks of one order, and the time limit of one fetch.
    "dcv_check_interval": 1.0,
    "dcv_timeout": 2.0,
    # Settings handed to the Sectigo and 今通 sub-apps (sectigo.py / jintong.py) as their `settings`.
    "sectigo": {},
    "jintong": {},
    # At most `requests` API calls in any `per` seconds (all tokens together, as a partner's quota);
    # past it the call is answered 429 with Retry-After (whole seconds until the window has room)
    # and not executed. null = no limit.
    "rate_limit": None,
}

RUNTIME_KEYS = set(DEFAULTS)


class ConfigError(ValueError):
    pass


def _check_product(pid, prod):
    if not re.match(protocol.PRODUCT_ID_PATTERN, pid):
        raise ConfigError("product ID %r is not a GUID" % pid)
    if not isinstance(prod, dict):
        raise ConfigError("product %s must be an object" % pid)
    unknown = set(prod) - {"name", "kind", "validation", "backend", "path", "delays", "dcv_mode"}
    if unknown:
        raise ConfigError("product %s: unknown keys %s" % (pid, sorted(unknown)))
    prod.setdefault("name", pid)
    prod.setdefault("kind", "ssl")
    prod.setdefault("validation", "dv" if prod["kind"] == "ssl" else "ov")
    prod.setdefault("backend", "wotrus")
    prod.setdefault("delays", {})
    prod.setdefault("dcv_mode", None)
    if prod["kind"] not in KINDS:
        raise ConfigError("product %s: kind must be one of %s" % (pid, KINDS))
    if prod["backend"] not in BACKENDS:
        raise ConfigError("product %s: backend must be one of %s" % (pid, BACKENDS))
    if prod["validation"] not in ("dv", "ov"):
        raise ConfigError("product %s: validation must be dv or ov" % pid)
    if prod["dcv_mode"] is not None:
        if prod["dcv_mode"] not in DCV_MODES:
            raise ConfigError("product %s: dcv_mode must be one of %s or null (= the global dcv_mode)"
                              % (pid, DCV_MODES))
        if prod["backend"] != "sectigo":
            raise ConfigError("product %s: dcv_mode applies to backend: sectigo products only (set it to null)"
                              % pid)
    prod.setdefault("path", PATH_AUTO if prod["kind"] == "ssl" else PATH_MANUAL)
    _check_path(prod["path"], "product %s path" % pid)
    _check_delays(prod["delays"], "product %s delays" % pid)


def _check_path(path, what):
    if not isinstance(path, list) or not path:
        raise ConfigError("%s must be a non-empty list of states" % what)
    if path[-1] not in PATH_ENDS:
        raise ConfigError("%s must end in one of %s" % (what, PATH_ENDS))
    for step in path[:-1]:
        if step not in PATH_STEPS:
            raise ConfigError("%s: %r is not a pending state %s" % (what, step, PATH_STEPS))


def _check_delays(delays, what):
    if not isinstance(delays, dict):
        raise ConfigError("%s must be an object {state: seconds}" % what)
    for k, v in delays.items():
        if k != "default" and k not in PATH_STEPS:
            raise ConfigError("%s: %r is not a pending state" % (what, k))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError("%s: %s must be a number >= 0" % (what, k))


def _check_dcv_resolve(mapping):
    """domain -> loopback IP address; keys lower-cased without a trailing dot. Returns the clean mapping."""
    if not isinstance(mapping, dict):
        raise ConfigError('dcv_resolve must be an object {"domain": "127.0.0.x"}')
    out = {}
    for name, addr in mapping.items():
        if not isinstance(name, str) or not isinstance(addr, str) or not name.strip():
            raise ConfigError("dcv_resolve: names and addresses must be strings")
        clean = name.strip().rstrip(".").lower()
        if not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9])?", clean):
            raise ConfigError("dcv_resolve: %r is not a domain name" % name)
        try:
            ip = ipaddress.ip_address(addr.strip())
        except ValueError:
            raise ConfigError("dcv_resolve: %s -> %r is not an IP address (names are not resolved)"
                              % (name, addr)) from None
        if not ip.is_loopback:
            raise ConfigError("dcv_resolve: %s -> %s is not a loopback address; the sandbox never sends DCV "
                              "requests off this machine" % (name, addr))
        out[clean] = str(ip)
    return out


def _check_rate_limit(value):
    if value is None:
        return
    if not isinstance(value, dict) or set(value) != {"requests", "per"}:
        raise ConfigError('rate_limit must be null or {"requests": N, "per": SECONDS}')
    n, per = value["requests"], value["per"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError("rate_limit.requests must be an integer >= 1")
    if isinstance(per, bool) or not isinstance(per, (int, float)) or per <= 0:
        raise ConfigError("rate_limit.per must be a number of seconds > 0")


def _num(settings, key, minimum=0.0, allow_none=False):
    v = settings[key]
    if v is None and allow_none:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < minimum:
        raise ConfigError("%s must be a number >= %s" % (key, minimum))


def validate(settings):
    unknown = set(settings) - RUNTIME_KEYS
    if unknown:
        raise ConfigError("unknown settings: %s" % ", ".join(sorted(unknown)))
    if settings["answer_casing"] not in ANSWER_CASINGS:
        raise ConfigError("answer_casing must be one of %s" % (ANSWER_CASINGS,))
    if settings["status_key"] not in STATUS_KEYS:
        raise ConfigError("status_key must be one of %s" % (STATUS_KEYS,))
    if settings["page_style"] not in PAGE_STYLES:
        raise ConfigError("page_style must be one of %s" % (PAGE_STYLES,))
    if settings["rsa_order_id_field"] not in RSA_ORDER_ID_FIELDS:
        raise ConfigError("rsa_order_id_field must be one of %s" % (RSA_ORDER_ID_FIELDS,))
    for key in ("accept_unknown_keys", "check_csr_names", "check_file_magic", "unpaid", "crl_in_leaf"):
        if not isinstance(settings[key], bool):
            raise ConfigError("%s must be true or false" % key)
    if not (isinstance(settings["cross_sign"], bool) or settings["cross_sign"] == CROSS_SIGN_R2_SELF_SIGNED):
        raise ConfigError("cross_sign must be true, false or %r" % CROSS_SIGN_R2_SELF_SIGNED)
    _check_delays(settings["delays"], "delays")
    _num(settings, "revoke_delay")
    _num(settings, "validity_minutes", minimum=0.05, allow_none=True)
    _num(settings, "push_retry_delay")
    _num(settings, "push_timeout", minimum=0.1)
    _num(settings, "tick_interval", minimum=0.01)
    if not isinstance(settings["push_attempts"], int) or not 1 <= settings["push_attempts"] <= 10:
        raise ConfigError("push_attempts must be an integer 1..10")
    if settings["push_url"] is not None and not str(settings["push_url"]).startswith(("http://", "https://")):
        raise ConfigError("push_url must be an http(s) URL or null")
    if not isinstance(settings["utc_offset"], str) or not re.fullmatch(r"[+-]\d\d:\d\d", settings["utc_offset"]):
        raise ConfigError("utc_offset must look like +08:00")
    if not isinstance(settings["push_secret"], str) or not isinstance(settings["push_header"], str):
        raise ConfigError("push_secret and push_header must be strings")
    if settings["dcv_mode"] not in DCV_MODES:
        raise ConfigError("dcv_mode must be one of %s" % (DCV_MODES,))
    settings["dcv_resolve"] = _check_dcv_resolve(settings["dcv_resolve"])
    port = settings["dcv_http_port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError("dcv_http_port must be an integer 1..65535")
    _num(settings, "dcv_check_interval", minimum=0.05)
    _num(settings, "dcv_timeout", minimum=0.1)
    if settings["dcv_timeout"] > 30:
        raise ConfigError("dcv_timeout must be at most 30 seconds")
    for key in ("sectigo", "jintong"):
        if not isinstance(settings[key], dict):
            raise ConfigError("%s must be an object (the settings of that sub-app)" % key)
    _check_rate_limit(settings["rate_limit"])
    if not isinstance(settings["products"], dict) or not settings["products"]:
        raise ConfigError("products must be a non-empty object {productID: {...}}")
    products = {}
    for pid, prod in settings["products"].items():
        prod = copy.deepcopy(prod)
        _check_product(pid, prod)
        products[pid.upper()] = prod
    settings["products"] = products
    return settings


def merge(base, changes):
    """Apply changes to a copy of base; dicts `delays` merge, `products` entries merge per product."""
    out = copy.deepcopy(base)
    for k, v in changes.items():
        if k == "delays" and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k].update(v)
        elif k == "products" and isinstance(v, dict) and isinstance(out.get(k), dict):
            for pid, prod in v.items():
                pid_u = pid.upper()
                if prod is None:
                    out[k].pop(pid_u, None)
                elif isinstance(prod, dict) and pid_u in out[k]:
                    out[k][pid_u].update(prod)
                else:
                    out[k][pid_u] = prod
        else:
            out[k] = v
    return validate(out)


def load(path=None, overrides=None):
    settings = copy.deepcopy(DEFAULTS)
    tokens = []
    if path:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ConfigError("%s: the top level must be an object" % path)
        tokens = data.pop("tokens", []) or []
        settings = merge(settings, data)
    if overrides:
        settings = merge(settings, overrides)
    return validate(settings), tokens


def dcv_mode(settings, product):
    """The DCV mode of an order of `product`: its own dcv_mode, else the global one (Sectigo products only)."""
    if not product or product.get("backend") != "sectigo":
        return "delay"
    return product.get("dcv_mode") or settings["dcv_mode"]


def step_delay(settings, product, status):
    d = (product or {}).get("delays", {})
    if status in d:
        return float(d[status])
    if "default" in d:
        return float(d["default"])
    g = settings["delays"]
    if status in g:
        return float(g[status])
    return float(g.get("default", 0.0))

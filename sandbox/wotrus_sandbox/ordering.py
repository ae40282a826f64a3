# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Create and Reissue share: new order records, CSR name checks, idempotency.

Idempotency: a request's fingerprint is its lower-cased body without the
``idempotenceID``, CSRs compared by their signed content. The same key with
the same fingerprint answers again what the first call answered; with
anything else it is refused. Lookup and insert happen in the caller's
transaction with no ``await`` between them.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from cryptography import x509

from wotrus_sandbox import dcv
from wotrus_sandbox.answers import envelope
from wotrus_sandbox.ca import is_ip, pem_csr_bytes, valid_dns_name
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.validate import Invalid


def _csr_identity(text):
    """A CSR compared by what it asks for (its signed content), not by its bytes: an ECDSA CSR
    signed again by the same key for the same names is the same request."""
    try:
        csr = x509.load_pem_x509_csr(pem_csr_bytes(text))
        return "csr-sha256:" + hashlib.sha256(csr.tbs_certrequest_bytes).hexdigest()
    except (ValueError, AttributeError):
        return text


def fingerprint(op, body):
    stripped = json.loads(json.dumps(body))
    if op == "create":
        info = stripped.get("orderinfopost") or {}
        info.pop("idempotenceid", None)
        for key in ("csr_rsa", "csr_sign", "csr_encrypt"):
            if isinstance(info.get(key), str) and info[key].strip():
                info[key] = _csr_identity(info[key])
    else:
        stripped.pop("idempotenceid", None)
        for key in ("csr", "csr_encrypt"):
            if isinstance(stripped.get(key), str) and stripped[key].strip():
                stripped[key] = _csr_identity(stripped[key])
    canon = json.dumps([op, stripped], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def idempotent_replay(sb, endpoint, key, fp, op, what, answer, success_msg):
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
        return envelope(sb, endpoint, error=(
            "idempotenceID %r was already used for order %s with different parameters; "
            "use a new idempotenceID for a different %s" % (key, seen["order_id"], what)))
    return envelope(sb, endpoint, data=answer(seen["order_id"]), success_msg=success_msg)


def new_order(sb, *, op, product_id, product, common_name, hosts, month, request, csrs, idempotence_id,
              now, seq, **extra):
    """Insert a new order in the first state of ``product``'s path (call inside a transaction)."""
    order = {
        "id": str(uuid.uuid4()).upper(), "seq": seq,
        "order_number": time.strftime("%y%m%d%H%M%S", time.localtime(now)) + "%03d" % (seq % 1000),
        "op": op, "idempotence_id": idempotence_id, "product_id": product_id, "kind": product["kind"],
        "status": product["path"][0], "path": list(product["path"]), "step": 0, "entered": now, "next_due": None,
        "is_pay": protocol.IS_PAY_UNPAID if sb.settings["unpaid"] else protocol.IS_PAY_PAID,
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
    """The CSR asks for the order's names (``check_csr_names``): SSL all names, document products the CN."""
    if not sb.settings["check_csr_names"]:
        return
    if kind == "document":
        sb.ca.check_subject_cn(csr, common_name, field)
    else:
        sb.ca.check_ssl_names(csr, common_name, hosts, field)


def check_ssl_names_syntax(common_name, hosts):
    for name in [common_name] + hosts:
        if not (is_ip(name) or valid_dns_name(name)):
            raise Invalid("%r is not a valid domain name or IP address" % name)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order engine: one WoTrus order's whole life, for every caller.

The wotrus_* modules, the certificate role's action plugin
(``certificate_issue``), the push receiver and AWX jobs all call this file;
none of them talks to the order endpoints in its own way. It imports nothing
from Ansible. Inputs reach it checked (by ``inputs`` in a module, by the role's
preflight plan); it checks what only the API's answers can tell.

Public API
----------

Connection::

    connect(api_url=None, api_token=None, validate_certs=True, ca_path=None,
            timeout=30.0, log=None) -> WoTrusClient
        Unset values come from the environment (ENV: WOTRUS_API_URL,
        WOTRUS_API_TOKEN, WOTRUS_CA_PATH), the one place they are read.

Proving the credentials (one read call, nothing changes)::

    check_credentials(client) -> dict
        GET of an order that cannot exist (PROBE_ORDER_ID): HTTP 401 raises AuthError,
        a TLS trust failure TransportError (from the client); any other answer (the API's
        "order not found") proves the token and the TLS trust. The role makes it once per
        play before the first key (certificate_credentials).

Placing or adopting an order::

    CreateRequest(product_id, common_name, hosts, month, csr=None, organization=None,
                  documents=None, idempotence_id=None, binding=None, ...)
        checked inputs -> ``.body`` and ``.idempotence_id`` (given, or derived
        from stable inputs: orders.derive_idempotence_id).
    create(client, request, check_mode=False, record=None, fetch_first=False) -> dict
        adopts the recorded order (GET) when ``record`` holds the request's
        idempotence id; otherwise sends Create (retried with the same id) and reads
        the order, or with ``fetch_first`` tries RetrievePem first (``pems`` in the
        result when issued at once: Create + RetrievePem, 2 calls per certificate).
    issued_at_once_hint(api_url, product_id) / remember_issued_at_once(api_url, product_id, issued)
        this machine's memory of whether the product's last order was issued at once.
    adopt(client, order_id) -> dict

Reissue, revoke, cancel (each with its plan: what the order's state allows)::

    ReissueRequest(order_id, csr, reason, idempotence_id=None, csr_encrypt=None, proof=None)
    reissue_plan(order, request, csr_option="csr", proof_option="proof_path") -> "reissue" (or raises)
    reissue(client, request, check_mode=False, record=None, ...) -> dict
    revoke(client, order_id, reason, proof, check_mode=False) -> dict   (plan: certificates.revoke_plan)
    cancel(client, order_id, reason, check_mode=False) -> dict          (plan: orders.cancel_plan)

Waiting and fetching::

    wait(client, order_id, timeout, interval=5, max_interval=30, progress=None,
         on_pending=None, order=None) -> Waited
        the one wait loop. ``progress(waited)`` is called before each pause;
        ``on_pending(summary, order)`` on every look at an order that is not
        issued and not dead, and returns True to stop waiting (the role uses it
        to publish the HTTP validation file of an order in pendingDCV on the
        host, or to stop for an order that needs a person).
    fetch(client, order_id, csr=None, wait_timeout=0) -> dict
        RetrievePem, the chain built from signatures, the key matched with the
        CSR's; works for issued orders and for revoked / pendingRevoke ones
        (which were issued: RetrievePem still answers).

Every dict answer carries ``changed`` and ``order_id``; ``order`` is the order
as the API sent it (``orders.summary(order)`` gives its snake_case facts).
Errors are the WoTrusError tree (errors.py).

Who may say "created"
---------------------

The API has no lookup by idempotence id, and a resent Create answers exactly
like the first one. A run says ``created``/``changed`` only when (1) the order's
``createTime`` is not more than ``orders.CREATE_TIME_SKEW`` older than the run,
and (2) this run is the first on this machine to receive that order for that
idempotence id: it claims it by creating a file with O_EXCL in
``claims_dir()`` (a private directory under the system's temporary directory,
entries kept a day). Twenty concurrent runs with one key give one order and
exactly one ``changed``. Runs on different machines each claim on their own
machine; keep a record (``record_path``, or the role's order record) to make
re-runs adopt with no Create at all. With ``fetch_first`` an order issued at
once is not read (its certificate is fetched instead): there is no createTime
then, and the claim alone decides.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time

from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    InputError,
    NotIssuedYet,
    OrderStateError,
    TransportError,
    WaitTimeout,
)
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.inputs import normalize_host

# -- connection ---------------------------------------------------------------
# The environment variables of the connection options, read here only (the
# modules' argument spec declares the same names as env fallbacks from this table).
ENV = dict(api_url="WOTRUS_API_URL", api_token="WOTRUS_API_TOKEN", ca_path="WOTRUS_CA_PATH")


def connection_settings(api_url=None, api_token=None, ca_path=None, environ=None):
    """``{api_url, api_token, ca_path}``: each given value, else its environment variable
    (ENV), else the default (the production URL; no token; the system's CAs)."""
    environ = os.environ if environ is None else environ
    return dict(api_url=api_url or environ.get(ENV["api_url"]) or protocol.DEFAULT_API_URL,
                api_token=api_token or environ.get(ENV["api_token"]) or None,
                ca_path=ca_path or environ.get(ENV["ca_path"]) or None)


def connect(api_url=None, api_token=None, validate_certs=True, ca_path=None, timeout=30.0, log=None, **kwargs):
    """A WoTrusClient; unset connection values from the environment (connection_settings)."""
    settings = connection_settings(api_url, api_token, ca_path)
    seconds = float(timeout)
    return WoTrusClient(settings["api_url"], settings["api_token"], validate_certs=validate_certs,
                        ca_path=settings["ca_path"], timeout=(min(seconds, 10.0), seconds), log=log, **kwargs)


def validate_certs_warning(ca_path=None):
    """The warning for validate_certs=false (which wins over ca_path)."""
    msg = ("validate_certs is false: the API's TLS certificate is not verified, and the token could be sent to "
           "anyone on the path; use ca_path instead")
    if ca_path:
        msg += " (ca_path %s is ignored while validate_certs is false)" % ca_path
    return msg


# -- credentials ------------------------------------------------------------
# An order ID no order has: the probe's GET can only answer "not found" (or 401).
PROBE_ORDER_ID = "00000000-0000-0000-0000-000000000000"


def check_credentials(client):
    """One read call that proves the token and the TLS trust; see the module docstring.

    Returns ``{"checked": True, "answer": "not found"|"found", "request_id": ...}``. Raises
    AuthError (HTTP 401), TransportError (TLS, network, 5xx), InputError (bad settings)."""
    try:
        answer = client.get(client.order_path(PROBE_ORDER_ID), what="check the API token (read a probe order)")
    except ApiError as err:
        if err.status == 401:
            raise
        # The token passed the check: the API only says the order is not there.
        return dict(checked=True, answer="not found", request_id=err.request_id)
    return dict(checked=True, answer="found", request_id=answer.request_id)


# -- who created the order ----------------------------------------------------
CLAIM_KEEP_SECONDS = 86400


def claims_dir():
    """Where this machine's runs claim the orders they received (private to the user)."""
    return os.path.join(tempfile.gettempdir(), "wotrus.pki-claims-%d" % os.getuid())


def claim(order_id, idempotence_id, directory=None, now=None):
    """True for the first caller on this machine that claims ``order_id`` for ``idempotence_id``
    (an O_EXCL file create), False for every later one. When the directory cannot be used
    safely (not ours, a link), True: the createTime rule alone then decides."""
    directory = directory or claims_dir()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return True
        _prune(directory, time.time() if now is None else now)
        name = hashlib.sha256(("%s\n%s" % (order_id, idempotence_id)).encode("utf-8")).hexdigest()[:40]
        fd = os.open(os.path.join(directory, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(fd)
    return True


def _prune(directory, now):
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        try:
            if now - os.lstat(path).st_mtime > CLAIM_KEEP_SECONDS:
                os.unlink(path)
        except OSError:
            pass


def _made_by_this_run(order, order_id, idempotence_id, started, claims):
    """The rule of the module docstring: recent createTime and the first claim here."""
    if orders.created_before(order, started) is True:
        return False
    return claims(order_id, idempotence_id) if claims else True


# -- create / adopt -----------------------------------------------------------
class CreateRequest:
    """A Create from checked inputs. ``csr`` is an ``inputs.Csr`` (or None),
    ``organization`` an ``organizationPost`` dict, ``documents`` ``documentsPost``
    items. Without ``idempotence_id`` one is derived from product, names, the CSR's
    public key (bound to ``binding`` when given: the role binds host, certificate
    name, replaced serial and failed order) and month."""

    def __init__(self, product_id, common_name, hosts, month, csr=None, organization=None, documents=None,
                 idempotence_id=None, binding=None, csr_sign=None, bind_rsa_product_id=None,
                 ukey_password=None, ukey_ship_address=None):
        self.product_id = product_id
        self.common_name = common_name
        self.hosts = list(hosts or [])
        self.month = int(month)
        self.csr = csr
        self.derived = not idempotence_id
        if idempotence_id:
            self.idempotence_id = idempotence_id
        else:
            key = csr.public_key_sha256() if csr else None
            if binding is not None:
                key = orders.binding_sha256(dict(binding, key=key))
            self.idempotence_id = orders.derive_idempotence_id(
                product_id, common_name, self.hosts, key, self.month,
                csr_sign.public_key_sha256() if csr_sign else None, bind_rsa_product_id)
        self.body = orders.build_create_body(
            product_id, common_name, self.month, self.idempotence_id, csr=csr.pem if csr else None,
            hosts=self.hosts, organization=organization, documents=documents, ukey_password=ukey_password,
            ukey_ship_address=ukey_ship_address, csr_sign=csr_sign.pem if csr_sign else None,
            bind_rsa_product_id=bind_rsa_product_id)

    def new_record(self, order_id, order_id_rsa=None, **fields):
        return records.new(self.idempotence_id, order_id, order_id_rsa, product_id=self.product_id,
                           common_name=self.common_name, hosts=self.hosts, month=self.month, **fields)


def order_facts(order):
    """``status``, ``is_pay``, ``pending_link``, ``order`` and, when not issued,
    ``waiting_for`` (what the order waits for, in words)."""
    summary = orders.summary(order)
    facts = dict(status=summary["status"], is_pay=summary["is_pay"], pending_link=summary["pending_link"],
                 order=order)
    if summary["status"] != protocol.STATUS_ISSUED:
        facts["waiting_for"] = orders.why_not_issued(order)
    return facts


def adopt(client, order_id, **extra):
    """An existing order, read (one GET); nothing changes."""
    order = orders.get_order(client, order_id)
    result = dict(changed=False, created=False, order_id=order_id, **extra)
    result.update(order_facts(order))
    return result


def create(client, request, check_mode=False, record=None, clock=time.time, claims=claim, fetch_first=False):
    """Create the order of ``request`` unless it exists; see the module docstring.

    Returns ``adopt``'s facts plus ``created`` (this run made it), ``existing``
    (a Create returned an order that was there before), ``idempotence_id``,
    ``order_id_main`` / ``order_id_rsa``, ``record`` (a new record for the order)
    and ``warnings``. In check mode without a recorded order nothing is sent:
    ``changed`` and ``created`` are predicted true and there is no ``order_id``.

    ``fetch_first``: after Create, try RetrievePem before reading the order. When the
    order was issued at once the result carries ``pems`` (pass them to ``fetch``: no
    further call) and the certificate costs 2 calls; otherwise the order is read as
    usual (one call more). Callers set it from ``issued_at_once_hint``."""
    recorded = records.order_for(record, request.idempotence_id)
    if recorded:
        return adopt(client, recorded, idempotence_id=request.idempotence_id, existing=True, warnings=[],
                     record=record)
    if check_mode:
        return dict(changed=True, created=True, existing=False, idempotence_id=request.idempotence_id,
                    warnings=[], record=None)
    started = clock()
    answer = orders.create_order(client, request.body)
    pems = None
    if fetch_first:
        pems = _retrieve_if_issued(client, answer.order_id)
    if pems is not None:
        # Issued at once: RetrievePem was the first look (2 calls in all). The order has no
        # createTime then: the claim alone decides who says "created".
        order = {"id": answer.order_id, "status": protocol.STATUS_ISSUED}
    else:
        order = orders.get_order(client, answer.order_id)
    made = _made_by_this_run(order, answer.order_id, request.idempotence_id, started, claims)
    warnings = []
    if not made and request.derived:
        warning = orders.reused_order_warning(order, started, request.idempotence_id)
        if warning:
            warnings.append(warning)
    result = dict(changed=made, created=made, existing=not made, order_id=answer.order_id,
                  order_id_main=answer.order_id_main, order_id_rsa=answer.order_id_rsa,
                  idempotence_id=request.idempotence_id, warnings=warnings,
                  record=request.new_record(answer.order_id, answer.order_id_rsa))
    result.update(order_facts(order))
    if pems is not None:
        result["pems"] = pems
    return result


def _retrieve_if_issued(client, order_id):
    """RetrievePem right after Create: the PEMs when the order was issued at once, None when
    the API says it has none yet (any refusal but HTTP 401)."""
    try:
        return certificates.retrieve(client, order_id)
    except NotIssuedYet:
        return None
    except ApiError as err:
        if err.status == 401:
            raise
        return None


# -- the issued-at-once hint --------------------------------------------------
# Whether the last order of a product (at an API URL) was issued at once, remembered on this
# machine (next to the claims): when it was, the next Create of that product tries RetrievePem
# first (2 calls for a certificate issued at once); when it was not, the order is read first as
# before, so an order that waits costs no call more. A wrong hint costs one call and is cleared.
HINT_KEEP_SECONDS = 7 * 86400


def _hint_path(api_url, product_id, directory=None):
    name = hashlib.sha256(("%s\n%s" % (api_url, str(product_id).upper())).encode("utf-8")).hexdigest()[:40]
    return os.path.join(directory or claims_dir(), "instant-" + name)


def issued_at_once_hint(api_url, product_id, directory=None, now=None):
    """True when this machine saw the last order of ``product_id`` at ``api_url`` issued at once
    (within HINT_KEEP_SECONDS)."""
    try:
        info = os.lstat(_hint_path(api_url, product_id, directory))
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        return False
    return (time.time() if now is None else now) - info.st_mtime <= HINT_KEEP_SECONDS


def remember_issued_at_once(api_url, product_id, issued, directory=None):
    """Keep (``issued``) or clear the hint; never fails (a hint is only an optimisation)."""
    path = _hint_path(api_url, product_id, directory)
    try:
        if issued:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            os.utime(path)
        else:
            os.unlink(path)
    except OSError:
        pass


# -- reissue ------------------------------------------------------------------
class ReissueRequest:
    """A reissue from checked inputs: ``csr`` (and ``csr_encrypt``) are ``inputs.Csr``,
    ``proof`` is ``(fileType, base64)`` or None. Without ``idempotence_id``, ``wtr-``
    derived from the order and the CSRs' public keys: one reissue per (order, key)."""

    def __init__(self, order_id, csr, reason, idempotence_id=None, csr_encrypt=None, proof=None):
        self.order_id = order_id
        self.csr = csr
        self.csr_encrypt = csr_encrypt
        self.proof = proof
        self.idempotence_id = idempotence_id or orders.derive_reissue_id(
            order_id, csr.public_key_sha256(), csr_encrypt.public_key_sha256() if csr_encrypt else None)
        self.body = orders.build_reissue_body(order_id, csr.pem, reason, self.idempotence_id,
                                              csr_encrypt.pem if csr_encrypt else None, proof)


def _name_set(names):
    return set(normalize_host(n) for n in names if n and str(n).strip())


def reissue_plan(order, request, csr_option="csr", proof_option="proof_path"):
    """``"reissue"`` when the order can be reissued with the request; otherwise raise, before
    any POST: OrderStateError when the order is not issued; InputError naming ``proof_option``
    when an SM2 order (or an SM2 encryption CSR) comes without the revocation letter; InputError
    naming ``csr_option`` when the CSR's names differ from the order's (the API keeps the
    order's names)."""
    order_id = request.order_id
    status = orders.status_of(order)
    if status in protocol.NOT_REISSUABLE_STATUSES:
        raise OrderStateError("order %s is %s; only an issued certificate can be reissued" % (order_id, status))
    sm2 = bool(protocol.ci_get(order, "csr_Sign", "csrSign")) or request.csr_encrypt is not None
    if sm2 and not request.proof:
        raise InputError(proof_option, "is required: order %s is an SM2 order, and the API requires a signed "
                                       "revocation letter to reissue SM2 certificates" % order_id)
    summary = orders.summary(order)
    want = _name_set([summary["common_name"]] + summary["hosts"])
    if want and summary["common_name"]:
        csr = request.csr
        have = _name_set([csr.common_name] + csr.dns_names + csr.ip_addresses)
        if csr.common_name and normalize_host(csr.common_name) != normalize_host(summary["common_name"]) \
                or have != want:
            missing, extra = sorted(want - have), sorted(have - want)
            raise InputError(csr_option, "the CSR's names differ from order %s's (a reissue keeps the order's "
                                         "common name %s and names %s)%s%s" % (
                                             order_id, summary["common_name"], ", ".join(sorted(want)),
                                             ("; missing from the CSR: %s" % ", ".join(missing)) if missing else "",
                                             ("; not in the order: %s" % ", ".join(extra)) if extra else ""))
    return "reissue"


def reissue(client, request, check_mode=False, record=None, clock=time.time, claims=claim,
            csr_option="csr", proof_option="proof_path"):
    """Reissue ``request.order_id`` with a new CSR (ReissueRequest, retried with the same id).

    Returns ``changed``, ``created`` (as for create), ``order_id`` (the old order),
    ``new_order_id``, ``idempotence_id``, the new order's facts and ``record`` (a record
    for the new order). A record holding this reissue's id is adopted with no POST."""
    key = request.idempotence_id
    recorded = records.order_for(record, key)
    if recorded:
        new = adopt(client, recorded)
        new.update(order_id=request.order_id, new_order_id=recorded, idempotence_id=key, record=record)
        return new
    old = orders.get_order(client, request.order_id)
    reissue_plan(old, request, csr_option, proof_option)
    if check_mode:
        return dict(changed=True, created=True, order_id=request.order_id, idempotence_id=key, record=None)
    started = clock()
    try:
        new_order_id = orders.reissue(client, request.body)
    except ApiError as err:
        if not request.proof and protocol.refusal_wants_proof(err.error_msg):
            err.message += " (give %s: Sectigo-backed and SM2 products need the signed revocation letter)" \
                % proof_option
            err.args = (err.message,)
        raise
    new_order = orders.get_order(client, new_order_id)
    made = _made_by_this_run(new_order, new_order_id, key, started, claims)
    old_summary = orders.summary(old)
    result = dict(changed=made, created=made, existing=not made, order_id=request.order_id,
                  new_order_id=new_order_id, idempotence_id=key,
                  record=records.new(key, new_order_id, reissued_from=request.order_id,
                                     product_id=old_summary["product_id"], common_name=old_summary["common_name"],
                                     hosts=old_summary["hosts"], month=protocol.ci_get(old, "month")))
    result.update(order_facts(new_order))
    return result


# -- revoke / cancel ----------------------------------------------------------
def revoke(client, order_id, reason, proof, check_mode=False):
    """Ask for revocation (RevokeRequest with the letter ``proof``). An order already
    pendingRevoke or revoked is not changed; after a lost answer or a refusal the order is
    read again (certificates.revoke), and ``changed`` is true only for the request that did it.
    Returns ``changed``, ``order_id``, ``revoke_status``, ``revoked``, ``status``, ``order``."""
    order = orders.get_order(client, order_id)
    status = orders.status_of(order)
    if certificates.revoke_plan(order, order_id) == "noop":
        return dict(changed=False, order_id=order_id, revoke_status=None, revoked=status == protocol.STATUS_REVOKED,
                    status=status, order=order)
    if check_mode:
        return dict(changed=True, order_id=order_id, revoke_status=None, revoked=False, status=status, order=order)
    outcome = certificates.revoke(client, order_id, reason, proof)
    return dict(changed=outcome.changed, order_id=order_id, revoke_status=outcome.revoke_status,
                revoked=outcome.revoked, status=orders.status_of(outcome.order), order=outcome.order)


def cancel(client, order_id, reason, check_mode=False):
    """Cancel an order that is not issued; one already closed (or rejected) is not changed."""
    order = orders.get_order(client, order_id)
    if orders.cancel_plan(order, order_id) == "noop":
        changed = False
    elif check_mode:
        changed = True
    else:
        order, changed = orders.cancel_order(client, order_id, reason)
    result = dict(changed=changed, order_id=order_id)
    result.update(order_facts(order))
    return result


# -- wait ---------------------------------------------------------------------
ISSUED, DEAD, STOPPED, TIMEOUT = "issued", "dead", "stopped", "timeout"


class Waited:
    """How a wait ended: ``state`` is ISSUED, DEAD (rejected, closed, revoked or being
    revoked), STOPPED (``on_pending`` asked) or TIMEOUT; ``order`` / ``summary`` the
    last look; ``waited`` seconds; ``polls`` GETs made."""

    def __init__(self, state, order, waited, polls):
        self.state = state
        self.order = order
        self.summary = orders.summary(order)
        self.waited = waited
        self.polls = polls

    @property
    def why(self):
        return orders.why_not_issued(self.order)

    def raise_unless_issued(self, order_id, timeout):
        """For callers that only want a certificate: OrderStateError or WaitTimeout."""
        details = dict(status=self.summary["status"], pending_link=self.summary["pending_link"])
        if self.state == DEAD:
            raise OrderStateError("order %s will not be issued: %s" % (order_id, self.why), details=details)
        if self.state != ISSUED:
            details.update(is_pay=self.summary["is_pay"], polls=self.polls)
            raise WaitTimeout("order %s is not issued after %ds: %s; run again later or raise wait_timeout"
                              % (order_id, int(timeout), self.why), details=details)


def wait(client, order_id, timeout, interval=5.0, max_interval=30.0, progress=None, on_pending=None,
         order=None, sleep=time.sleep, clock=time.monotonic):
    """The one wait loop: look at the order (GET) until it is issued, dead, stopped by
    ``on_pending`` or ``timeout`` seconds have passed. Pauses start at ``interval`` and
    grow by half up to ``max_interval``. ``order`` is a first look already made."""
    start = clock()
    delay = max(0.2, float(interval))
    polls = 0
    while True:
        if order is None:
            order = orders.get_order(client, order_id)
            polls += 1
        status = orders.status_of(order)
        waited = clock() - start
        if status == protocol.STATUS_ISSUED:
            return Waited(ISSUED, order, waited, polls)
        if status in protocol.DEAD_STATUSES:
            return Waited(DEAD, order, waited, polls)
        if on_pending is not None and on_pending(orders.summary(order), order):
            return Waited(STOPPED, order, waited, polls)
        if waited >= float(timeout):
            return Waited(TIMEOUT, order, waited, polls)
        pause = min(delay, max(0.0, float(timeout) - waited))
        if progress is not None:
            progress(Waited(None, order, waited, polls))
        client.log("WoTrus: order %s is %s; next look in %.0fs" % (order_id, status, pause))
        sleep(pause)
        delay = min(float(max_interval), delay * 1.5)
        order = None


# -- fetch --------------------------------------------------------------------
def _describe(kind, pems, order_id):
    try:
        return _x509.describe(pems[kind]["pem"], pems[kind]["chains"])
    except _x509.ChainError as exc:
        raise TransportError("the %s certificate of order %s cannot be read: %s" % (kind, order_id, exc))


def fetch(client, order_id, csr=None, wait_timeout=0.0, sleep=time.sleep, clock=time.monotonic, pems=None):
    """The certificate of an issued (or revoked, or pendingRevoke) order: RetrievePem,
    retried while an issued order has no PEM yet (up to ``wait_timeout`` seconds), the
    chain ordered by signatures, and, when ``csr`` (PEM) is given, the check that the
    certificate holds the CSR's public key.

    Returns the primary certificate's facts (_x509.describe: ``certificate``, ``chain``,
    ``fullchain``, ``root``, ``chain_complete``, ``serial_number``, ``not_after``, ...)
    plus ``sign`` / ``encrypt`` facts for SM2 pairs and ``kinds`` (present kinds).
    ``pems`` (from ``create(fetch_first=True)``) are used instead of a call."""
    deadline = clock() + float(wait_timeout or 0)
    delay = 5.0
    while pems is None:
        try:
            pems = certificates.retrieve(client, order_id)
            break
        except NotIssuedYet as err:
            if clock() + delay > deadline:
                raise WaitTimeout("order %s is issued but the API returned no certificate yet; run again later"
                                  % order_id, url=err.url, method=err.method, request_id=err.request_id)
            sleep(delay)
            delay = min(30.0, delay * 1.5)
    primary = "rsa" if "rsa" in pems else "sign" if "sign" in pems else "encrypt"
    result = _describe(primary, pems, order_id)
    for kind in ("sign", "encrypt"):
        if kind in pems:
            result[kind] = _describe(kind, pems, order_id)
    result["kinds"] = sorted(pems)
    if csr and not _x509.key_matches(result["certificate"], csr):
        raise OrderStateError("the certificate of order %s does not hold the CSR's public key" % order_id)
    return result


def fetchable(status):
    """Whether an order in ``status`` has a certificate RetrievePem gives: issued, or
    revoked / being revoked (only an issued order can be revoked)."""
    return status == protocol.STATUS_ISSUED or status in protocol.REVOKE_DONE_STATUSES

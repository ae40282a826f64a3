# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``Sandbox``: everything one running sandbox owns, shared by every handler.

The settings (knobs), the SQLite store, the CA, the fault queue, the push
sender and the URLs it listens on. The API and the management app each keep
it under ``app[SANDBOX]``; handlers are plain functions that read it from
their request (``request.app[SANDBOX]``).
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import hmac
import math
import time

from aiohttp import web

from wotrus_sandbox.ca import CA, cert_pem
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.faults import Faults
from wotrus_sandbox.push import Pusher
from wotrus_sandbox.store import Store

SEED_PAGE = {"total": 0, "limit": 0, "skip": 0}
# Endpoints whose seed example carries the page object (the order query shows null).
PAGE_OBJECT_ENDPOINTS = {"POST /v1/Order/Create", "GET /v1/Certificate/RetrievePem",
                         "POST /v1/Certificate/RevokeRequest", "POST /v1/Certificate/ReissueRequest"}
PENDING_LINK_PATH = "/ProductV4/OrderSuccess/{token}.html"


class Sandbox:
    def __init__(self, state_dir, settings, tokens):
        self.state_dir = state_dir
        self.settings = settings
        self.tokens = [t.encode("utf-8") for t in tokens]
        self.store = Store(state_dir)
        self.ca = CA(state_dir)
        self.faults = Faults()
        self.pusher = Pusher(self)
        self.background = set()  # tasks that must outlive their request (slow faults)
        self.calls = collections.deque()  # monotonic times of the calls in the rate-limit window
        self.api_url = None
        self.mgmt_url = None
        self.http_url = None

    def product(self, product_id):
        return self.settings["products"].get(product_id)

    # -- events ----------------------------------------------------------------
    def dispatch(self, events):
        """Push ``[(event, order_id), ...]`` (collected inside a transaction) once it is committed."""
        for event, order_id in events:
            try:
                self.pusher.schedule(order_id, event)
            except RuntimeError:  # no running loop (offline use)
                pass

    def rate_limited(self, now=None):
        """Seconds the caller must wait (the Retry-After of a 429) when the call is past
        ``rate_limit``, else None (and the call is counted in the window)."""
        limit = self.settings.get("rate_limit")
        if not limit:
            return None
        now = time.monotonic() if now is None else now
        per = float(limit["per"])
        while self.calls and self.calls[0] <= now - per:
            self.calls.popleft()
        if len(self.calls) >= limit["requests"]:
            return max(1, int(math.ceil(self.calls[0] + per - now)))
        self.calls.append(now)
        return None

    def token_ok(self, presented):
        """The WoTrusToken header against every accepted token, each in constant time."""
        if presented is None:
            return False
        given = presented.strip().encode("utf-8")
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(given, token)
        return ok

    # -- the CA ------------------------------------------------------------------
    def write_roots(self):
        return self.ca.write_roots(self.state_dir, self.settings["cross_sign"])

    def chain(self, usage="rsa"):
        """The chains_* array of a certificate of ``usage``: the SM2 chain for sign / encrypt."""
        if usage in ("sign", "encrypt"):
            return self.ca.sm2_chain_pems()
        return self.ca.chain_pems(self.settings["cross_sign"])

    def issue_certs(self, order):
        """Sign the order's leaves (one per CSR usage) and store them."""
        product = self.product(order["product_id"]) or {}
        kind = order["kind"]
        sign_kind = "ssl_dv" if kind == "ssl" and product.get("validation", "ov") == "dv" else kind
        crl_url = (self.mgmt_url + "/crl") if (self.mgmt_url and self.settings["crl_in_leaf"]) else None
        org = order["request"].get("org", {})
        for usage, csr in sorted(order["csrs"].items()):
            cert = self.ca.issue(csr, kind=sign_kind, usage=usage, common_name=order["common_name"],
                                 hosts=order["hosts"], org=org, months=order["month"],
                                 validity_minutes=self.settings["validity_minutes"], crl_url=crl_url)
            self.store.insert_cert(format(cert.serial_number, "x"), order["id"], usage, cert_pem(cert),
                                   self.chain(usage), cert.not_valid_after_utc.timestamp())

    # -- how answers look (knobs) ----------------------------------------------------
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
        offset = self.settings["utc_offset"]
        sign = -1 if offset.startswith("-") else 1
        hours, minutes = offset.lstrip("+-").split(":")
        zone = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes)))
        return datetime.datetime.fromtimestamp(epoch, zone).isoformat(timespec="milliseconds")


# States whose order holds a certificate (RetrievePem answers it); the old
# order of a reissue keeps its certificate too.
HAS_CERT_STATUSES = frozenset([protocol.STATUS_ISSUED, protocol.STATUS_PENDING_REVOKE, protocol.STATUS_REVOKED,
                               protocol.SANDBOX_REISSUED_STATUS])

SANDBOX = web.AppKey("sandbox", Sandbox)

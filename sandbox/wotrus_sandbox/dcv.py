# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain control validation of ``backend: sectigo`` orders.

When such an order is created the sandbox registers it, under its
``orderNumber``, in the Sectigo sub-app's state (so ``!getPostPaymentStatus``
answers its MD5/SHA256 and per-domain DCV state) and records every name
(commonName, then hosts) as ``pending`` in the ``dcv`` table.

``dcv_mode`` (global, or a product's own) says how such an order leaves
``pendingDCV``:

* ``delay``: after its pendingDCV delay, like every other state; its domains
  are then marked validated without a check.
* ``http``: only when, for every name, the sandbox has fetched
  ``http://<name>:<dcv_http_port>/.well-known/pki-validation/<MD5>.txt`` and
  found the lines ``<SHA256>``, ``sectigo.com`` (and ``<uniqueValue>`` when the
  Sectigo order has one) — trailing whitespace of each line and trailing empty
  lines ignored. Names are never looked up: ``dcv_resolve`` maps a name to a
  loopback address (an IP literal that is loopback is used as it is), the
  request goes there with ``Host: <name>``, and anything that is not loopback
  is refused before connecting. Redirects are not followed.

The expected values are what the Sectigo status answer shows for the order
(its MD5, SHA256 and uniqueValue), and every rule on them -- the file's path
and lines, how a served file is compared, no HTTP file for wildcard names --
is the collection's own (``plugins/module_utils/_sectigo/dcv.py``, through
``collection.py``): the sandbox checks exactly what the collection publishes.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import time

import aiohttp

from wotrus_sandbox import config
from wotrus_sandbox.ca import csr_der
from wotrus_sandbox.collection import protocol, sectigo_dcv

try:
    from wotrus_sandbox import sectigo
except ImportError:  # pragma: no cover - the sub-app is optional
    sectigo = None

log = logging.getLogger("wotrus_sandbox.dcv")

MAX_BODY = 64 * 1024
PENDING, FAILED, VALIDATED = "pending", "failed", "validated"
USER_AGENT = "wotrus-sandbox-dcv/1"


# -- which orders, which names -----------------------------------------------
def product_of(sb, order):
    return sb.settings["products"].get(order["product_id"])


def is_sectigo(sb, order):
    product = product_of(sb, order)
    return bool(product) and product.get("backend") == "sectigo"


def http_mode(sb, order):
    return config.dcv_mode(sb.settings, product_of(sb, order)) == "http"


def order_domains(order):
    """commonName then hosts, lower case, without duplicates."""
    out = []
    for name in [order["common_name"]] + list(order["hosts"]):
        name = sectigo_dcv.dcv_domain(name)
        if name and name not in out:
            out.append(name)
    return out


def _csr_of(order):
    csrs = order["csrs"]
    return csrs.get("rsa") or csrs.get("sign")


def _sectigo_state(sb):
    if sectigo is None:
        return None
    return sectigo.shared_state(sb.settings.get("sectigo") or {}, sb.state_dir)


# -- registration (inside the create/reissue transaction) -----------------------
def register(sb, order):
    """Record the order's names as pending and register it with the Sectigo sub-app."""
    domains = order_domains(order)
    sb.store.dcv_init(order["id"], domains)
    state = _sectigo_state(sb)
    if state is None:
        log.warning("order %s: wotrus_sandbox.sectigo is not installed; orderNumber %s is not registered "
                    "with a Sectigo status service", order["id"], order["order_number"])
        return
    try:
        state.register({"order_number": order["order_number"], "csr": _csr_of(order), "domains": domains,
                        "wotrus_order_id": order["id"]})
    except ValueError as exc:  # cannot happen for a checked CSR; be loud if it does
        log.error("order %s: cannot register orderNumber %s with the Sectigo sub-app: %s",
                  order["id"], order["order_number"], exc)
        return
    log.info("order %s: registered as Sectigo orderNumber %s (domains %s)", order["id"], order["order_number"],
             ", ".join(domains))


def forget_all(sb):
    """``/reset``: drop the Sectigo orders registered for WoTrus orders."""
    state = _sectigo_state(sb)
    if state is not None:
        state.forget_wotrus_orders()


def expected(sb, order):
    """``(md5, sha256, unique_value)`` as the Sectigo status answer shows them for this order."""
    state = _sectigo_state(sb)
    if state is not None:
        record = state.orders.get(order["order_number"])
        if record and record.get("md5") and record.get("sha256"):
            return record["md5"], record["sha256"], record.get("unique_value")
    md5, sha256 = sectigo_dcv.csr_hashes(csr_der(_csr_of(order)))
    return md5, sha256, None


def _sectigo_completed(sb, order, domains, method):
    state = _sectigo_state(sb)
    if state is None or order["order_number"] not in state.orders:
        return
    for domain in domains:
        state.set_domain_completed(order["order_number"], domain, method)


def complete_unchecked(sb, order, now, reason):
    """The order left pendingDCV without a check (delay mode, forced state): its names count as validated."""
    rows = sb.store.dcv_of(order["id"])
    todo = [d for d, r in rows.items() if r["state"] != VALIDATED]
    for domain in todo:
        sb.store.dcv_record(order["id"], domain, VALIDATED, now, "not checked: " + reason, attempt=False)
    if todo:
        _sectigo_completed(sb, order, todo, sectigo_dcv.METHOD_CNAME)


# -- the check --------------------------------------------------------------------
class Checker:
    """Background task: checks the http-mode orders in pendingDCV, each every ``dcv_check_interval`` s."""

    def __init__(self, sb):
        self.sb = sb
        self.running = {}
        self.last = {}
        self.session = None

    async def run(self):
        self.session = aiohttp.ClientSession(trust_env=False, connector=aiohttp.TCPConnector(force_close=True))
        try:
            while True:
                try:
                    self.poll()
                except Exception:  # never let the checker die
                    log.exception("DCV checker")
                await asyncio.sleep(min(float(self.sb.settings["tick_interval"]),
                                        float(self.sb.settings["dcv_check_interval"])))
        finally:
            tasks = list(self.running.values())
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await self.session.close()

    def poll(self):
        sb = self.sb
        now = time.monotonic()
        interval = float(sb.settings["dcv_check_interval"])
        ids = sb.store.orders_in_status(protocol.STATUS_PENDING_DCV)
        for oid in set(self.last) - set(ids):
            del self.last[oid]
        for oid in ids:
            if oid in self.running or now - self.last.get(oid, float("-inf")) < interval:
                continue
            order = sb.store.get_order(oid)
            if order is None or order["is_pay"] == protocol.IS_PAY_UNPAID or not http_mode(sb, order):
                continue
            self.last[oid] = now
            task = asyncio.get_running_loop().create_task(self.check(order))
            self.running[oid] = task
            task.add_done_callback(functools.partial(self._done, oid))

    def _done(self, oid, task):
        self.running.pop(oid, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("DCV check of order %s failed", oid, exc_info=task.exception())

    async def check(self, order):
        from wotrus_sandbox import states  # states imports this module

        sb = self.sb
        rows = sb.store.dcv_of(order["id"])
        if not rows:  # e.g. the product became a Sectigo one after the order was made
            with sb.store.tx():
                register(sb, order)
            rows = sb.store.dcv_of(order["id"])
        todo = [d for d, r in rows.items() if r["state"] != VALIDATED]
        try:
            md5, sha256, unique_value = expected(sb, order)
        except ValueError as exc:
            results = [(FAILED, "no DCV values: %s" % exc, None)] * len(todo)
        else:
            results = await asyncio.gather(*(self.fetch(order, d, md5, sha256, unique_value) for d in todo))
        now = time.time()
        events = []
        newly = []
        with sb.store.tx():
            fresh = sb.store.get_order(order["id"])
            if fresh is None or fresh["status"] != protocol.STATUS_PENDING_DCV:
                return  # moved meanwhile (cancelled, forced, mode switched)
            for domain, (state, detail, url) in zip(todo, results):
                sb.store.dcv_record(fresh["id"], domain, state, now, detail, url)
                if state == VALIDATED:
                    newly.append(domain)
            done = all(r["state"] == VALIDATED for r in sb.store.dcv_of(fresh["id"]).values())
            if done and http_mode(sb, fresh) and fresh["is_pay"] != protocol.IS_PAY_UNPAID:
                path_ = fresh["path"]
                nxt = path_[path_.index(protocol.STATUS_PENDING_DCV) + 1]
                log.info("DCV order %s: every domain validated over HTTP; %s -> %s", fresh["id"],
                         protocol.STATUS_PENDING_DCV, nxt)
                states.enter(sb, fresh, nxt, now, events)
        if newly:
            _sectigo_completed(sb, order, newly, sectigo_dcv.METHOD_HTTP)
        sb.dispatch(events)

    async def fetch(self, order, domain, md5, sha256, unique_value):
        """One attempt for one name: ``(state, detail, url)``, logged."""
        settings = self.sb.settings
        path = sectigo_dcv.http_file_path(md5)
        port = int(settings["dcv_http_port"])
        url = "http://%s:%d%s" % (domain, port, path)
        addr = None
        if not sectigo_dcv.http_file_allowed(domain):
            state, detail = FAILED, "a wildcard name cannot be validated with an HTTP file (Sectigo: CNAME only)"
        else:
            addr = settings["dcv_resolve"].get(domain)
            if addr is None:
                try:
                    ipaddress.ip_address(domain)
                    addr = domain
                except ValueError:
                    pass
            if addr is None:
                state, detail = FAILED, ("no dcv_resolve entry for %s: the sandbox does not look names up; map it "
                                         "to a loopback address (--dcv-resolve %s=127.0.0.x)" % (domain, domain))
            elif not ipaddress.ip_address(addr).is_loopback:
                state, detail = FAILED, ("refused: %s is not a loopback address; the sandbox never sends DCV "
                                         "requests off this machine" % addr)
            else:
                timeout = float(settings["dcv_timeout"])
                try:
                    state, detail = await asyncio.wait_for(self._get(domain, addr, port, path, (sha256, unique_value), timeout),
                                                           timeout + 0.5)
                except asyncio.TimeoutError:
                    state, detail = FAILED, "no answer within %g s" % timeout
                except aiohttp.ClientError as exc:
                    state, detail = FAILED, "connection failed: %s" % (exc or type(exc).__name__)
                except OSError as exc:
                    state, detail = FAILED, "connection failed: %s" % exc
        log.info("DCV order %s domain %s: GET %s (connecting to %s) -> %s: %s", order["id"], domain, url,
                 addr or "-", state, detail)
        return state, detail, url

    async def _get(self, domain, addr, port, path, expected_values, timeout):
        host = "[%s]" % addr if ":" in addr else addr
        target = "http://%s:%d%s" % (host, port, path)
        headers = {"Host": domain if port == 80 else "%s:%d" % (domain, port), "User-Agent": USER_AGENT,
                   "Accept": "*/*"}
        async with self.session.get(target, headers=headers, allow_redirects=False,
                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            chunks, size = [], 0
            async for chunk in resp.content.iter_chunked(8192):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    break
            body = b"".join(chunks)
            if resp.status != 200:
                where = resp.headers.get("Location")
                return FAILED, "HTTP %d%s" % (resp.status, " to %s (redirects are not followed)" % where
                                              if where else "")
        if len(body) > MAX_BODY:
            return FAILED, "the file is larger than %d bytes" % MAX_BODY
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return FAILED, "the file is not UTF-8 text"
        if sectigo_dcv.http_file_matches(text, *expected_values):
            return VALIDATED, "the file matches (HTTP 200)"
        shown = text if len(text) <= 200 else text[:200] + "..."
        expected = "\n".join(sectigo_dcv.http_file_lines(*expected_values))
        return FAILED, "the content does not match: expected %r, got %r" % (expected, shown)

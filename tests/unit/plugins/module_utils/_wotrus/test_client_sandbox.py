# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client against the sandbox's scripted faults, where a real server's
answer matters: Retry-After on Cancel and Revoke (issue 8 defect 3), a goal
already reached after a resend or by a concurrent run (defect 4), an
``http://`` URL to the HTTPS port (defect 7)."""
from __future__ import annotations

import base64
import concurrent.futures
import threading
import uuid

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, engine, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import TransportError
from ansible_collections.wotrus.pki.plugins.modules import wotrus_order

from .helpers import key, make_csr

testing = pytest.importorskip("wotrus_sandbox.testing")

REVOKE = "POST /v1/Certificate/RevokeRequest"
CANCEL = "POST /v1/Order/Cancel"
PROOF = (".pdf", base64.b64encode(b"%PDF-1.4 signed revocation letter").decode("ascii"))
ZERO_DELAYS = {"default": 0, "pendingSubmitOrderToCA": 0, "pendingDCV": 0, "pendingCAIssued": 0,
               "pendingAutoIssue": 0, "pending": 0}


@pytest.fixture(scope="module")
def sandbox():
    with testing.SandboxProcess() as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    sandbox.mgmt_post("/reset")
    sandbox.mgmt_post("/config", {"delays": ZERO_DELAYS, "revoke_delay": 0})
    return sandbox


def make_client(sb, sleeps=None, **kwargs):
    return WoTrusClient(sb.api_url, sb.token, ca_path=sb.roots, timeout=10, rand=lambda: 0.5,
                        sleep=(sleeps.append if sleeps is not None else None), **kwargs)


def new_order(sb, issued=True):
    if not issued:
        sb.mgmt_post("/config", {"delays": dict(ZERO_DELAYS, default=3600, pendingAutoIssue=3600)})
    c = make_client(sb)
    cn = "www.example.com"
    body = orders.build_create_body(protocol.PRODUCT_SSL_EXAMPLE, cn, 12, "t-" + uuid.uuid4().hex,
                                    csr=make_csr(key(), cn, [cn]), hosts=[cn],
                                    organization={"orgName": "Example Ltd"})
    order_id = orders.create_order(c, body).order_id
    if issued:
        engine.wait(c, order_id, 30, interval=0.2).raise_unless_issued(order_id, 30)
    return order_id


def count(sb, endpoint):
    return sb.mgmt_get("/counts").get(endpoint, 0)


class Module:
    check_mode = False

    def __init__(self, **params):
        self.params = params


# -- defect 3: Retry-After on the un-keyed POSTs --------------------------------
def test_revoke_waits_what_retry_after_asks(sb):
    order_id = new_order(sb)
    sb.mgmt_post("/faults", {"endpoint": REVOKE, "kind": "http_503", "retry_after": 10})
    sleeps = []
    outcome = certificates.revoke(make_client(sb, sleeps), order_id, "key compromise", PROOF)
    assert outcome.changed is True and orders.status_of(outcome.order) in protocol.REVOKE_DONE_STATUSES
    assert sleeps == [10.5]  # what was asked, plus the jitter rand() * backoff
    assert count(sb, REVOKE) == 2


def test_cancel_waits_what_retry_after_asks(sb):
    order_id = new_order(sb, issued=False)
    sb.mgmt_post("/faults", {"endpoint": CANCEL, "kind": "http_503", "retry_after": 10})
    sleeps = []
    order, changed = orders.cancel_order(make_client(sb, sleeps), order_id, "typo")
    assert changed is True and orders.status_of(order) == protocol.STATUS_CLOSED
    assert sleeps == [10.5]  # what was asked, plus the jitter rand() * backoff
    assert count(sb, CANCEL) == 2


# -- defect 4: the goal already reached -----------------------------------------
@pytest.mark.parametrize("fault", [
    {"kind": "http_429", "retry_after": 1, "execute": True},   # answered 429 once it had taken effect
    {"kind": "http_503", "execute": True},
    {"kind": "commit_then_drop"},
])
def test_revoke_that_took_effect_before_a_failed_answer_is_success(sb, fault):
    order_id = new_order(sb)
    sb.mgmt_post("/faults", dict(fault, endpoint=REVOKE))
    sleeps = []
    outcome = certificates.revoke(make_client(sb, sleeps), order_id, "key compromise", PROOF)
    assert outcome.changed is True and orders.status_of(outcome.order) in protocol.REVOKE_DONE_STATUSES
    assert count(sb, REVOKE) == 1 and sleeps == []


@pytest.mark.parametrize("fault", [
    {"kind": "http_429", "retry_after": 1, "execute": True},
    {"kind": "commit_then_drop"},
])
def test_cancel_that_took_effect_before_a_failed_answer_is_success(sb, fault):
    order_id = new_order(sb, issued=False)
    sb.mgmt_post("/faults", dict(fault, endpoint=CANCEL))
    order, changed = orders.cancel_order(make_client(sb), order_id, "typo")
    assert changed is True and orders.status_of(order) == protocol.STATUS_CLOSED
    assert count(sb, CANCEL) == 1


def run_parallel(n, work):
    start = threading.Barrier(n)

    def one(_i):
        start.wait()
        return work()

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_twenty_parallel_revokes_of_one_order(sb):
    order_id = new_order(sb)

    def work():
        # What wotrus_revoke runs: the engine's revoke.
        return engine.revoke(make_client(sb), order_id, "key compromise", PROOF)

    results = run_parallel(20, work)  # an exception in any run fails the test
    assert sum(1 for r in results if r["changed"]) == 1
    assert all(r["status"] in protocol.REVOKE_DONE_STATUSES for r in results)


def test_twenty_parallel_cancels_of_one_order(sb):
    order_id = new_order(sb, issued=False)

    def work():
        module = Module(order_id=order_id, record_path=None, cancel_reason="typo")
        return wotrus_order.ensure_absent(module, make_client(sb))

    results = run_parallel(20, work)
    assert sum(1 for r in results if r["changed"]) == 1
    assert all(r["status"] == protocol.STATUS_CLOSED for r in results)


# -- defect 7: http:// against the HTTPS port ------------------------------------
def test_http_url_against_the_https_port(sb):
    before = sb.mgmt_get("/counts")["total"]
    sleeps = []
    c = WoTrusClient(sb.api_url.replace("https://", "http://"), sb.token, timeout=10, sleep=sleeps.append)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "644A3E60-F1AA-4E25-821A-ACFBC462BC37")
    text = str(ei.value)
    assert text.startswith("api_url: the server at 127.0.0.1:") and "speaks TLS" in text and "use https://" in text
    assert "outcome" not in text and "attempts" not in text
    assert sleeps == [] and sb.mgmt_get("/counts")["total"] == before

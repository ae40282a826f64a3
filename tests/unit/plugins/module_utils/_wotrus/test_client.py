# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import email.utils
import time

import pytest
import requests
from urllib3.exceptions import ProtocolError

from ansible_collections.wotrus.pki.plugins.module_utils._http import parse_retry_after
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError, AuthError, InputError, TransportError, WoTrusError,
)

from ..scripted_server import RESET, ScriptedServer, envelope
from .helpers import TOKEN, FakeSession, client, fixture, ok, response


def reset_after_send():
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


def assert_no_token(err):
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err.to_result())


# -- headers, RequestID, casing ------------------------------------------------
def test_headers_and_fresh_request_id_per_call():
    c = client([response(200, fixture("order_pending")), response(200, fixture("order_pending"))])
    orders.get_order(c, "a4a78326")
    orders.get_order(c, "a4a78326")
    r1, r2 = c.fake.requests
    assert r1["headers"][protocol.TOKEN_HEADER] == TOKEN
    assert r1["headers"][protocol.REQUEST_ID_HEADER] != r2["headers"][protocol.REQUEST_ID_HEADER]
    assert r1["url"] == "https://api.test/v1/Order/a4a78326"
    assert r1["allow_redirects"] is False
    assert r1["timeout"] == (10.0, 60.0)
    assert r1["verify"] is True


def test_order_id_is_quoted_in_path():
    c = client([response(200, fixture("order_pending"))])
    orders.get_order(c, "a b/c")
    assert c.fake.requests[0]["url"].endswith("/v1/Order/a%20b%2Fc")


def test_casing_variants_are_read():
    c = client([response(200, fixture("order_unpaid_casing"))])
    order = orders.get_order(c, "x")
    s = orders.summary(order)
    assert s["status"] == "pendingDCV"
    assert s["is_pay"] == 0
    assert s["hosts"] == ["fyt.amazingboy.cn", "www.amazingboy.cn"]
    assert s["pending_link"].startswith("https://buy.wosign.com")
    assert "payment" in orders.why_not_issued(order)


def test_create_reads_rsa_only_upper_case():
    c = client([response(200, fixture("create_rsa_only_upper"))])
    res = orders.create_order(c, {"orderInfoPost": {}})
    assert res.order_id == "89CB4BF6-3E53-4B49-9AB9-92D578144260"
    assert res.order_id_main is None


def test_create_prefers_main_order_id():
    c = client([response(200, fixture("create"))])
    res = orders.create_order(c, {"orderInfoPost": {}})
    assert res.order_id == "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
    assert res.order_id_rsa == "89CB4BF6-3E53-4B49-9AB9-92D578144260"


@pytest.fixture(scope="module")
def roots_pem(tmp_path_factory):
    from .helpers import Pki, pem
    path = tmp_path_factory.mktemp("roots") / "roots.pem"
    path.write_text(pem(Pki().root))
    return str(path)


def test_ca_path_and_timeout(roots_pem):
    c = client([ok({})], ca_path=roots_pem, timeout=7)
    c.get("/x")
    assert c.fake.requests[0]["verify"] == roots_pem
    assert c.fake.requests[0]["timeout"] == (7.0, 7.0)


@pytest.mark.parametrize("validate_certs,ca_path,verify", [
    (True, None, True),
    (True, "ROOTS", "ROOTS"),
    (False, None, False),
    (False, "ROOTS", False),  # validate_certs=false wins over ca_path
])
def test_validate_certs_and_ca_path(validate_certs, ca_path, verify, roots_pem):
    ca_path = roots_pem if ca_path == "ROOTS" else ca_path
    verify = roots_pem if verify == "ROOTS" else verify
    c = client([ok({})], validate_certs=validate_certs, ca_path=ca_path)
    c.get("/x")
    got = c.fake.requests[0]["verify"]
    assert got == verify and type(got) is type(verify)


class _Module(object):
    def __init__(self, **params):
        self.params = dict(api_url="https://api.test", api_token=TOKEN, validate_certs=True, ca_path=None,
                           timeout=30.0)
        self.params.update(params)
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def log(self, msg):
        pass


@pytest.mark.parametrize("validate_certs,ca_path,verify,warned", [
    (True, "ROOTS", "ROOTS", None),
    (False, None, False, "validate_certs is false"),
    (False, "/tmp/roots.pem", False, "ca_path /tmp/roots.pem is ignored while validate_certs is false"),
])
def test_client_from_module_warns_when_not_verifying(validate_certs, ca_path, verify, warned, roots_pem):
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import client_from_module
    ca_path = roots_pem if ca_path == "ROOTS" else ca_path
    verify = roots_pem if verify == "ROOTS" else verify
    module = _Module(validate_certs=validate_certs, ca_path=ca_path)
    c = client_from_module(module)
    assert c.verify == verify and type(c.verify) is type(verify)
    if warned:
        assert len(module.warnings) == 1 and warned in module.warnings[0]
    else:
        assert module.warnings == []


# -- envelope errors -----------------------------------------------------------
def test_is_success_false_is_api_error_with_fields():
    c = client([response(200, fixture("refused"))])
    with pytest.raises(ApiError) as ei:
        orders.create_order(c, {"orderInfoPost": {}})
    e = ei.value
    assert "refused to create the order" in str(e)
    assert e.error_msg == "idempotenceID already used with other parameters"
    assert e.status == 200 and e.url == "https://api.test/v1/Order/Create"
    assert e.request_id and e.request_id in str(e)
    assert len(c.fake.requests) == 1  # a refusal is not retried
    assert_no_token(e)


def test_is_success_false_on_http_500_is_still_failure_and_retried_for_get(served):
    c = served([(500, {}, {"isSuccess": False, "errorMsg": "boom"}), (200, {}, envelope({"status": "issued"}))])
    assert orders.get_order(c, "x")["status"] == "issued"


def test_401_is_auth_error():
    c = client([response(401, raw="")])
    with pytest.raises(AuthError) as ei:
        orders.get_order(c, "x")
    assert "check api_token / WOTRUS_API_TOKEN" in str(ei.value)
    assert ei.value.status == 401
    assert len(c.fake.requests) == 1
    assert_no_token(ei.value)


def test_404_is_api_error_with_advice():
    c = client([response(404, raw="not found")])
    with pytest.raises(ApiError) as ei:
        orders.get_order(c, "x")
    assert "check order_id" in str(ei.value)


def test_malformed_json_is_retried_for_get_then_fails():
    c = client([response(200, raw="<html>proxy</html>")] * 5)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "not a WoTrus envelope" in str(ei.value)
    assert len(c.fake.requests) == 5 and len(c.sleeps) == 4 and "retry 1 of 4" in c.logs[0]


def test_error_msg_echoing_token_is_scrubbed():
    c = client([response(400, {"isSuccess": False, "errorMsg": "bad token %s" % TOKEN})])
    with pytest.raises(ApiError) as ei:
        orders.get_order(c, "x")
    assert_no_token(ei.value)
    assert "********" in ei.value.error_msg


# -- retries: urllib3's Retry below the session, so against a real socket ------
@pytest.fixture
def served():
    """``served(script, **kwargs)`` -> a WoTrusClient on a scripted loopback server."""
    servers = []

    def make(script, **kwargs):
        server = ScriptedServer(script)
        servers.append(server)
        sleeps, logs = [], []
        kwargs.setdefault("retries", 4)
        c = WoTrusClient(server.url, kwargs.pop("token", TOKEN), sleep=sleeps.append, log=logs.append,
                         rand=lambda: 0.5, timeout=5, **kwargs)
        c.sleeps, c.logs, c.server = sleeps, logs, server
        return c

    yield make
    for server in servers:
        server.close()


PENDING = (200, {}, fixture("order_pending"))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_retried_on_transient_status(served, status):
    c = served([(status, {}, ""), PENDING])
    assert orders.get_order(c, "x")
    assert len(c.server.requests) == 2
    assert len(c.sleeps) == 1 and c.logs and "retry 1 of 4" in c.logs[0] and "HTTP %d" % status in c.logs[0]


def test_get_retried_on_connection_reset(served):
    c = served([RESET, RESET, PENDING])
    assert orders.get_order(c, "x")
    assert len(c.server.requests) == 3 and len(c.sleeps) == 2


def test_backoff_is_capped_exponential_with_jitter(served):
    c = served([(503, {}, "")] * 7, retries=6, backoff=1.0, max_backoff=8.0)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    # rand()=0.5 -> 3/4 of the base: 1, 2, 4, 8, 8, 8
    assert c.sleeps == [0.75, 1.5, 3.0, 6.0, 6.0, 6.0]
    assert ei.value.attempts == 7 and ei.value.status == 503


def test_retry_after_seconds_is_honoured_and_capped(served):
    c = served([(429, {"Retry-After": "7"}, ""), (503, {"Retry-After": "9999"}, ""),
                (200, {}, envelope({"status": "issued"}))], max_retry_after=60)
    orders.get_order(c, "x")
    # What was asked (capped), plus a jitter of rand() * min(backoff, that): 0.5 here.
    assert c.sleeps == [7.5, 60.5]
    assert "(Retry-After" in c.logs[0]


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_with_retry_after_does_not_burn_the_retries(served, status):
    """Many jobs against one rate limit: a 429/503 with Retry-After is waited out without counting
    as a retry, so the call outlasts more throttled answers than it has retries."""
    c = served([(status, {"Retry-After": "1"}, "")] * 6 + [PENDING], retries=2)
    assert orders.get_order(c, "x")
    assert len(c.server.requests) == 7 and c.sleeps == [1.5] * 6
    assert "not counted as a retry" in c.logs[0] and "Retry-After" in c.logs[0]


def test_throttle_waits_are_bounded_then_count_as_retries(served):
    """Past max_throttle_wait of such waits in one call, a 429 counts like any retry: the call ends."""
    c = served([(429, {"Retry-After": "1"}, "")] * 10, retries=2, max_throttle_wait=3)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    # 2 free waits (1.5 + 1.5 = 3 s), then the 2 retries, then the call gives up with the 429.
    assert len(c.server.requests) == 5 and sum(c.sleeps) == pytest.approx(6.0)
    assert ei.value.status == 429


def test_429_without_retry_after_counts_as_a_retry(served):
    c = served([(429, {}, "")] * 3, retries=2)
    with pytest.raises(TransportError):
        orders.get_order(c, "x")
    assert len(c.server.requests) == 3


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert 9 <= parse_retry_after(email.utils.formatdate(time.time() + 10, usegmt=True)) <= 11
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("12") == 12.0


def test_retries_exhausted_message_names_everything(served):
    c = served([(503, {}, {"isSuccess": False, "errorMsg": "maintenance"})] * 5)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    text = str(ei.value)
    assert "HTTP 503" in text and "GET %s/v1/Order/x" % c.server.url in text
    assert "RequestID" in text and "maintenance" in text and "5 attempts" in text


def test_failed_get_does_not_say_outcome_unknown(served):
    """Defect 7: a GET has no outcome to be unknown about."""
    c = served([RESET] * 5 + [(503, {}, "")] * 5)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "outcome" not in str(ei.value) and "could not read order x" in str(ei.value)
    assert "RemoteDisconnected" in str(ei.value)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "outcome" not in str(ei.value) and "try again later" in str(ei.value)


def test_create_retried_with_same_key_after_lost_answer(served):
    """The service committed, the connection broke before the answer: the
    resend carries the same idempotenceID and returns the same order."""
    c = served([RESET, (502, {}, ""), (200, {}, fixture("create"))])
    body = orders.build_create_body("30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D", "a.example", 12, "key-1")
    res = orders.create_order(c, body)
    assert res.order_id == "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
    sent = [r["body"] for r in c.server.requests]
    assert len(sent) == 3 and len(set(sent)) == 1 and b'"idempotenceID": "key-1"' in sent[0]


def test_unkeyed_post_not_resent_after_possible_commit(served):
    c = served([RESET])
    with pytest.raises(TransportError) as ei:
        c.post(protocol.PATH_CANCEL, {"orderID": "x", "reason": "r"}, what="cancel order x")
    assert "outcome is unknown" in str(ei.value) and ei.value.sent is True
    assert len(c.server.requests) == 1 and c.sleeps == []


@pytest.mark.parametrize("status", [429, 500, 503])
def test_unkeyed_post_not_resent_on_status(served, status):
    c = served([(status, {"Retry-After": "10"}, "")])
    with pytest.raises(TransportError) as ei:
        c.post(protocol.PATH_REVOKE, {"orderId": "x"})
    assert len(c.server.requests) == 1 and c.sleeps == []
    assert ei.value.retry_after == 10.0 and ei.value.sent is True


def test_unkeyed_post_retried_when_never_sent():
    import socket
    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = []
    c = WoTrusClient("http://127.0.0.1:%d" % port, TOKEN, sleep=sleeps.append, rand=lambda: 0.5, retries=2)
    with pytest.raises(TransportError) as ei:
        c.post(protocol.PATH_CANCEL, {"orderID": "x", "reason": "r"})
    assert ei.value.sent is False and "could not reach" in str(ei.value)
    assert len(sleeps) == 2 and ei.value.attempts == 3


def test_tls_error_not_retried_and_names_ca_path():
    c = client([requests.exceptions.SSLError("certificate verify failed")])
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "ca_path" in str(ei.value)
    assert len(c.fake.requests) == 1


# -- cancel / revoke re-read the order -----------------------------------------
def test_cancel_rereads_after_lost_answer_and_stops_when_closed():
    c = client([reset_after_send(), ok({"status": "closed"})])
    order, changed = orders.cancel_order(c, "x", "typo")
    assert order["status"] == "closed" and changed is True
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET"]
    assert c.sleeps == []


def test_cancel_rereads_then_resends_when_still_open():
    c = client([reset_after_send(), ok({"status": "pendingDCV"}), response(200, fixture("cancel_ok")),
                ok({"status": "closed"})])
    order, changed = orders.cancel_order(c, "x", "typo")
    assert order["status"] == "closed" and changed is True
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET", "POST", "GET"]


def test_cancel_refused_says_why():
    c = client([response(200, fixture("cancel_refused")), ok({"status": "issued"})])
    with pytest.raises(ApiError) as ei:
        orders.cancel_order(c, "x", "typo")
    assert "证书已签发" in str(ei.value)


def test_cancel_refused_because_another_run_closed_it_is_success_unchanged():
    """Defect 4: 1 of 20 concurrent cancels failed "already closed"."""
    c = client([response(200, {"isSuccess": False, "errorMsg": "order already closed"}), ok({"status": "closed"})])
    order, changed = orders.cancel_order(c, "x", "typo")
    assert order["status"] == "closed" and changed is False


@pytest.mark.parametrize("status", [429, 503])
def test_cancel_waits_what_retry_after_asks_before_resending(served, status):
    """Defect 3: Cancel resent after 2 s when the service asked for 10."""
    c = served([(status, {"Retry-After": "10"}, ""), (200, {}, envelope({"status": "pendingDCV"})),
                (200, {}, envelope({"cancelResult": True})), (200, {}, envelope({"status": "closed"}))])
    order, changed = orders.cancel_order(c, "x", "typo")
    assert changed is True and order["status"] == "closed"
    assert c.sleeps == [10.5]  # never less than asked; jitter rand() * backoff
    assert [r["method"] for r in c.server.requests] == ["POST", "GET", "POST", "GET"]


def test_revoke_rereads_after_lost_answer():
    c = client([response(502, raw=""), ok({"status": "pendingRevoke"})])
    outcome = certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="))
    assert outcome.order["status"] == "pendingRevoke" and outcome.revoked is False and outcome.changed is True
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET"]


@pytest.mark.parametrize("status", [429, 503])
def test_revoke_waits_what_retry_after_asks_before_resending(served, status):
    """Defect 3: Revoke resent after 2 s when the service asked for 10."""
    c = served([(status, {"Retry-After": "10"}, ""), (200, {}, envelope({"status": "issued"})),
                (200, {}, envelope({"revokeStatus": "pendingAudit", "revoked": False})),
                (200, {}, envelope({"status": "pendingRevoke"}))])
    outcome = certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="))
    assert outcome.changed is True and outcome.revoke_status == "pendingAudit"
    assert c.sleeps == [10.5]


def test_revoke_answered_429_after_it_took_effect_is_success():
    """Defect 4: the 429 came after the request had taken effect."""
    c = client([response(429, raw="", headers={"Retry-After": "1"}), ok({"status": "pendingRevoke"})])
    outcome = certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="))
    assert outcome.changed is True and orders.status_of(outcome.order) == "pendingRevoke"
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET"]


def test_revoke_refused_because_another_run_revoked_it_is_success_unchanged():
    """Defect 4: 5 of 20 concurrent revokes failed "already revoked"."""
    c = client([response(200, {"isSuccess": False, "errorMsg": "already revoked"}), ok({"status": "revoked"})])
    outcome = certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="))
    assert outcome.changed is False and outcome.revoked is True


def test_revoke_refusal_on_a_live_order_stays_an_error():
    c = client([response(200, {"isSuccess": False, "errorMsg": "bad letter"}), ok({"status": "issued"})])
    with pytest.raises(ApiError, match="bad letter"):
        certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="))


# -- the connection options: clear errors before any call (defect 1) ---------
@pytest.mark.parametrize("timeout", [0, -1, "abc", (5, 0), float("nan")])
def test_bad_timeout_names_the_option(timeout):
    with pytest.raises(InputError) as ei:
        WoTrusClient("https://api.test", TOKEN, timeout=timeout, session=FakeSession([]))
    assert ei.value.option == "timeout" and str(ei.value).startswith("timeout: must be a number of seconds")


def test_missing_ca_path_names_the_option(tmp_path):
    with pytest.raises(InputError) as ei:
        WoTrusClient("https://api.test", TOKEN, ca_path="/nonexistent", session=FakeSession([]))
    assert ei.value.option == "ca_path" and "/nonexistent does not exist" in str(ei.value)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InputError) as ei:
        WoTrusClient("https://api.test", TOKEN, ca_path=str(junk), session=FakeSession([]))
    assert ei.value.option == "ca_path" and "no PEM CA certificate" in str(ei.value)
    # validate_certs=false: ca_path is ignored, so not checked
    WoTrusClient("https://api.test", TOKEN, ca_path="/nonexistent", validate_certs=False, session=FakeSession([]))


def test_http_url_to_a_tls_port_says_so_without_retrying():
    """Defect 7: http:// against an HTTPS port retried five times and ended in "outcome unknown"."""
    import socket
    import ssl
    import threading
    from .helpers import Pki
    pki = Pki()
    import os
    import tempfile
    from cryptography.hazmat.primitives import serialization
    tmp = tempfile.mkdtemp()
    cert_path, key_path = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    with open(cert_path, "wb") as f:
        f.write(pki.leaf.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def serve():
        while True:
            try:
                conn, _addr = listener.accept()
            except OSError:
                return
            accepted.append(1)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    sleeps = []
    try:
        c = WoTrusClient("http://127.0.0.1:%d" % listener.getsockname()[1], TOKEN, sleep=sleeps.append, timeout=5)
        for call in (lambda: orders.get_order(c, "x"),
                     lambda: c.post(protocol.PATH_CREATE, {}, keyed=True)):
            with pytest.raises(TransportError) as ei:
                call()
            assert "speaks TLS" in str(ei.value) and "use https://" in str(ei.value)
            assert "outcome" not in str(ei.value) and str(ei.value).startswith("api_url:")
        assert sleeps == []
    finally:
        listener.close()


# -- redirects and the token's origin ------------------------------------------
def test_post_follows_no_redirect():
    c = client([response(307, raw="", headers={"Location": "https://api.test/elsewhere"})])
    with pytest.raises(TransportError) as ei:
        c.post(protocol.PATH_CREATE, {}, keyed=True)
    assert "POSTs follow no redirect" in str(ei.value)
    assert len(c.fake.requests) == 1


def test_get_follows_same_origin_redirect_only():
    c = client([response(302, raw="", headers={"Location": "/v1/Order/y"}), ok({"status": "issued"})])
    assert orders.get_order(c, "x")["status"] == "issued"
    assert c.fake.requests[1]["url"] == "https://api.test/v1/Order/y"
    c = client([response(302, raw="", headers={"Location": "https://evil.test/steal"})])
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "another origin" in str(ei.value)
    assert all(r["url"].startswith("https://api.test/") for r in c.fake.requests)


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.1", "ftp://localhost", "https://",
                                 "http://127.0.0.1.example.com"])
def test_http_url_refused_except_loopback(url):
    with pytest.raises(InputError) as ei:
        WoTrusClient(url, TOKEN, session=FakeSession([]))
    assert ei.value.option == "api_url" and protocol.PLAIN_HTTP_RULE in str(ei.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost", "http://127.0.0.2:1", "http://[::1]:80",
                                 "https://restapi.wosign.com/"])
def test_http_url_accepted_on_loopback(url):
    WoTrusClient(url, TOKEN, session=FakeSession([]))


def test_empty_token_refused_before_any_call():
    with pytest.raises(InputError) as ei:
        WoTrusClient("https://api.test", " ", session=FakeSession([]))
    assert "WOTRUS_API_TOKEN" in str(ei.value)


# -- the token in errors, results and logs -------------------------------------
@pytest.mark.parametrize("script", [
    [response(401, raw="")],
    [response(400, {"isSuccess": False, "errorMsg": TOKEN})],
    [response(200, {"isSuccess": False, "errorMsg": "token %s refused" % TOKEN})],
    [requests.exceptions.SSLError("x %s" % TOKEN)],
    [requests.exceptions.ConnectionError("boom %s" % TOKEN)] * 5,
    [response(302, raw="", headers={"Location": "https://evil.test/?t=%s" % TOKEN})],
    [response(503, raw=TOKEN)] * 5,
])
def test_token_absent_from_every_error_and_log(script):
    c = client(script)
    with pytest.raises(WoTrusError) as ei:
        orders.get_order(c, "x")
    assert_no_token(ei.value)
    assert all(TOKEN not in line for line in c.logs)


def test_to_result_fields():
    c = client([response(200, fixture("refused"))])
    with pytest.raises(ApiError) as ei:
        c.get("/x", what="read x")
    r = ei.value.to_result()
    assert set(["msg", "http_status", "url", "request_id", "error_msg", "error_kind"]) <= set(r)
    assert r["error_kind"] == "api"

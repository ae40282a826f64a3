# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import NewConnectionError, ProtocolError

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient, parse_retry_after
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError, AuthError, InputError, TransportError, WoTrusError,
)

from .helpers import TOKEN, FakeSession, client, fixture, ok, response


def reset_after_send():
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


def refused():
    return requests.exceptions.ConnectionError(NewConnectionError(None, "Connection refused"))


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


def test_ca_path_and_timeout():
    c = client([ok({})], ca_path="/tmp/roots.pem", timeout=7)
    c.get("/x")
    assert c.fake.requests[0]["verify"] == "/tmp/roots.pem"
    assert c.fake.requests[0]["timeout"] == (7.0, 7.0)


@pytest.mark.parametrize("validate_certs,ca_path,verify", [
    (True, None, True),
    (True, "/tmp/roots.pem", "/tmp/roots.pem"),
    (False, None, False),
    (False, "/tmp/roots.pem", False),  # validate_certs=false wins over ca_path
])
def test_validate_certs_and_ca_path(validate_certs, ca_path, verify):
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
    (True, "/tmp/roots.pem", "/tmp/roots.pem", None),
    (False, None, False, "validate_certs is false"),
    (False, "/tmp/roots.pem", False, "ca_path /tmp/roots.pem is ignored while validate_certs is false"),
])
def test_client_from_module_warns_when_not_verifying(validate_certs, ca_path, verify, warned):
    from ansible_collections.wotrus.pki.plugins.module_utils._common import client_from_module
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


def test_is_success_false_on_http_500_is_still_failure_and_retried_for_get():
    c = client([response(500, {"isSuccess": False, "errorMsg": "boom"}), ok({"status": "issued"})])
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
    assert len(c.fake.requests) == 5


def test_error_msg_echoing_token_is_scrubbed():
    c = client([response(400, {"isSuccess": False, "errorMsg": "bad token %s" % TOKEN})])
    with pytest.raises(ApiError) as ei:
        orders.get_order(c, "x")
    assert_no_token(ei.value)
    assert "********" in ei.value.error_msg


# -- retries -------------------------------------------------------------------
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_get_retried_on_transient_status(status):
    c = client([response(status, raw=""), response(200, fixture("order_pending"))])
    assert orders.get_order(c, "x")
    assert len(c.fake.requests) == 2
    assert len(c.sleeps) == 1 and c.logs and "retry 1 of 4" in c.logs[0]


def test_get_retried_on_connection_error():
    c = client([reset_after_send(), requests.exceptions.ReadTimeout("slow"), response(200, fixture("order_pending"))])
    assert orders.get_order(c, "x")
    assert len(c.fake.requests) == 3


def test_backoff_is_capped_exponential_with_jitter():
    c = client([response(503, raw="")] * 7, retries=6, backoff=1.0, max_backoff=8.0)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    # rand()=0.5 -> 3/4 of the base: 1, 2, 4, 8, 8, 8
    assert c.sleeps == [0.75, 1.5, 3.0, 6.0, 6.0, 6.0]
    assert ei.value.attempts == 7 and ei.value.status == 503
    assert len(ei.value.request_ids) == 7 and len(set(ei.value.request_ids)) == 7


def test_retry_after_seconds_is_honoured_and_capped():
    c = client([response(429, raw="", headers={"Retry-After": "7"}),
                response(503, raw="", headers={"Retry-After": "9999"}),
                ok({"status": "issued"})], max_retry_after=60)
    orders.get_order(c, "x")
    assert c.sleeps == [7.0, 60.0]


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("-3") == 0.0


def test_retries_exhausted_message_names_everything():
    c = client([response(503, {"isSuccess": False, "errorMsg": "maintenance"})] * 5)
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    text = str(ei.value)
    assert "HTTP 503" in text and "GET https://api.test/v1/Order/x" in text
    assert "RequestID" in text and "maintenance" in text and "5 attempts" in text


def test_create_retried_with_same_key_after_lost_answer():
    """The service committed, the connection broke before the answer: the
    resend carries the same idempotenceID and returns the same order."""
    c = client([reset_after_send(), response(502, raw=""), response(200, fixture("create"))])
    body = orders.build_create_body("30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D", "a.example", 12, "key-1")
    res = orders.create_order(c, body)
    assert res.order_id == "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
    sent = [r["data"] for r in c.fake.requests]
    assert len(sent) == 3 and len(set(sent)) == 1 and b'"idempotenceID": "key-1"' in sent[0]


def test_unkeyed_post_not_retried_after_possible_commit():
    c = client([reset_after_send()])
    with pytest.raises(TransportError) as ei:
        c.post(protocol.PATH_CANCEL, {"orderID": "x", "reason": "r"}, what="cancel order x")
    assert "outcome is unknown" in str(ei.value)
    assert len(c.fake.requests) == 1


def test_unkeyed_post_retried_when_never_sent():
    c = client([refused(), response(429, raw="", headers={"Retry-After": "1"}), ok({"cancelResult": True})])
    ans = c.post(protocol.PATH_CANCEL, {"orderID": "x", "reason": "r"})
    assert ans.data["cancelResult"] is True
    assert len(c.fake.requests) == 3


def test_unkeyed_post_5xx_not_retried():
    c = client([response(503, raw="")])
    with pytest.raises(TransportError):
        c.post(protocol.PATH_REVOKE, {"orderId": "x"})
    assert len(c.fake.requests) == 1


def test_tls_error_not_retried_and_names_ca_path():
    c = client([requests.exceptions.SSLError("certificate verify failed")])
    with pytest.raises(TransportError) as ei:
        orders.get_order(c, "x")
    assert "ca_path" in str(ei.value)
    assert len(c.fake.requests) == 1


# -- cancel / revoke re-read the order -----------------------------------------
def test_cancel_rereads_after_lost_answer_and_stops_when_closed():
    c = client([reset_after_send(), ok({"status": "closed"})])
    order = orders.cancel_order(c, "x", "typo", sleep=lambda s: None)
    assert order["status"] == "closed"
    methods = [r["method"] for r in c.fake.requests]
    assert methods == ["POST", "GET"]


def test_cancel_rereads_then_retries_when_still_open():
    c = client([reset_after_send(), ok({"status": "pendingDCV"}), response(200, fixture("cancel_ok")),
                ok({"status": "closed"})])
    order = orders.cancel_order(c, "x", "typo", sleep=lambda s: None)
    assert order["status"] == "closed"
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET", "POST", "GET"]


def test_cancel_refused_says_why():
    c = client([response(200, fixture("cancel_refused"))])
    with pytest.raises(ApiError) as ei:
        orders.cancel_order(c, "x", "typo")
    assert "证书已签发" in str(ei.value)


def test_revoke_rereads_after_lost_answer():
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates
    c = client([response(502, raw=""), ok({"status": "pendingRevoke"})])
    status, revoked, order = certificates.revoke(c, "x", "key compromise", (".pdf", "JVBERi0="), sleep=lambda s: None)
    assert order["status"] == "pendingRevoke" and revoked is False
    assert [r["method"] for r in c.fake.requests] == ["POST", "GET"]


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


def test_http_url_refused_except_loopback():
    with pytest.raises(InputError) as ei:
        WoTrusClient("http://api.example.com", TOKEN, session=FakeSession([]))
    assert "api_url" in str(ei.value)
    WoTrusClient("http://127.0.0.1:8080", TOKEN, session=FakeSession([]))


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

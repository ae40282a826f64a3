# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._http import HttpAnswer
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import (
    UPLOAD_ERROR_URL,
    UPLOAD_SUCCESS_URL,
    SectigoClient,
    parse_error_code,
)
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import (
    SectigoApiError,
    SectigoAuthError,
    SectigoCallLimitError,
    SectigoResponseError,
    SectigoTransportError,
    SectigoUploadError,
)

from .helpers import FakeTransport, fixture, json_answer, seed_answer

LIMIT = {"errorCode": "-42", "errorMessage": "Call limit reached! Please try again later", "data": {}}


def client(transport, **kwargs):
    sleeps = []
    kwargs.setdefault("login_name", "partner")
    kwargs.setdefault("login_password", "s3cret-pass")
    c = SectigoClient(api_url="https://sectigo.test/products/!getPostPaymentStatus", session=transport,
                      sleep=sleeps.append, **kwargs)
    return c, sleeps


def form(request):
    return parse_qs(request["body"].decode())


@pytest.mark.parametrize("value, expected", [(0, 0), ("0", 0), ("-4", -4), (" -42 ", -42), (-16, -16), (-1.0, -1)])
def test_error_code_number_or_string(value, expected):
    assert parse_error_code(value) == expected


@pytest.mark.parametrize("value", ["abc", None, True, [], 1.5])
def test_error_code_garbage(value):
    with pytest.raises(ValueError):
        parse_error_code(value)


def test_success_posts_the_form():
    transport = FakeTransport([json_answer(seed_answer())])
    c, _sleeps = client(transport)
    data = c.get_post_payment_status("654824", certificate_id=123)
    assert data["orderStatus"] == "Pending"
    sent = form(transport.requests[0])
    assert sent == {"loginName": ["partner"], "loginPassword": ["s3cret-pass"], "orderNumber": ["654824"],
                    "certificateID": ["123"]}
    assert transport.requests[0]["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_session_id_replaces_the_login_fields():
    transport = FakeTransport([json_answer(seed_answer())])
    c, _sleeps = client(transport, sasp_session_id="ABCDEF0123456789")
    c.get_post_payment_status("654824")
    sent = form(transport.requests[0])
    assert "loginName" not in sent and "loginPassword" not in sent
    assert sent["saspSessionID"] == ["ABCDEF0123456789"]


def test_string_error_code_of_the_seed_failure_example():
    transport = FakeTransport([json_answer(fixture("post_payment_status_failure.json"))])
    c, sleeps = client(transport)
    with pytest.raises(SectigoApiError) as info:
        c.get_post_payment_status("1")
    assert info.value.error_code == -4
    assert "errorCode -4" in info.value.message and "orderNumber" in info.value.message
    assert sleeps == []


def test_login_refused_is_an_auth_error_without_the_password():
    transport = FakeTransport([json_answer({"errorCode": "-16", "errorMessage": "Incorrect login details", "data": {}})])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoAuthError) as info:
        c.get_post_payment_status("1")
    assert "login_name" in info.value.message
    assert "s3cret-pass" not in repr(info.value.to_result()) + info.value.message


@pytest.mark.parametrize("code", [-1, -2, -3, -14, -17, -99])
def test_other_codes_fail_at_once_naming_the_code(code):
    transport = FakeTransport([json_answer({"errorCode": str(code), "errorMessage": "x", "data": {}})])
    c, sleeps = client(transport)
    with pytest.raises(SectigoApiError) as info:
        c.get_post_payment_status("1")
    assert "errorCode %d" % code in info.value.message
    assert len(transport.requests) == 1 and sleeps == []


def test_call_limit_is_retried_with_capped_backoff():
    transport = FakeTransport([json_answer(LIMIT)] * 3 + [json_answer(seed_answer())])
    c, sleeps = client(transport, backoff=2.0, max_delay=5.0)
    data = c.get_post_payment_status("654824")
    assert data["orderNumber"] == 654824
    assert c.retried == 3 and len(sleeps) == 3
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0 and 2.5 <= sleeps[2] <= 5.0


def test_call_limit_gives_up_after_the_retries():
    transport = FakeTransport([json_answer(LIMIT)] * 3)
    c, sleeps = client(transport, retries=2)
    with pytest.raises(SectigoCallLimitError) as info:
        c.get_post_payment_status("1")
    assert info.value.error_code == -42 and "after 2 retries" in info.value.message
    assert len(sleeps) == 2


def test_not_json():
    transport = FakeTransport([HttpAnswer(200, {}, b"<html>hello</html>")])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoResponseError, match="not JSON"):
        c.get_post_payment_status("1")


def test_http_error_without_json():
    transport = FakeTransport([HttpAnswer(502, {}, b"Bad gateway")])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoTransportError) as info:
        c.get_post_payment_status("1")
    assert info.value.status == 502


def test_success_without_data_object():
    transport = FakeTransport([json_answer({"errorCode": 0, "errorMessage": ""})])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoResponseError, match="data"):
        c.get_post_payment_status("1")


def test_upload_success_redirect(tmp_path):
    doc = tmp_path / "licence.pdf"
    doc.write_bytes(b"%PDF-1.4 test")
    transport = FakeTransport([HttpAnswer(303, {"Location": UPLOAD_SUCCESS_URL}, b"")])
    c, _sleeps = client(transport)
    answer = c.upload_documents("https://upload.test/order", "jwt.token.here", [str(doc)], "我的营业执照")
    assert answer.status == 303
    request = transport.requests[0]
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request["body"]
    assert b'name="token"\r\n\r\njwt.token.here\r\n' in body
    assert b'name="file"; filename="licence.pdf"' in body and b"%PDF-1.4 test" in body
    assert "我的营业执照".encode() in body
    assert UPLOAD_ERROR_URL.encode() in body


def test_upload_error_redirect(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("x")
    transport = FakeTransport([HttpAnswer(303, {"Location": UPLOAD_ERROR_URL + "?error=token+expired"}, b"")])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoUploadError, match="token expired"):
        c.upload_documents("https://upload.test/order", "jwt.upload.token", [str(doc)])


def test_upload_unauthorised(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("x")
    transport = FakeTransport([HttpAnswer(401, {}, b'{"error": "bad token signature"}')])
    c, _sleeps = client(transport)
    with pytest.raises(SectigoUploadError, match="token was refused") as info:
        c.upload_documents("https://upload.test/order", "jwt.upload.token", [str(doc)])
    assert info.value.status == 401

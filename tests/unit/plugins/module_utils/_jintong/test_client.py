# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from urllib.parse import parse_qs, quote

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._jintong import signing
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.client import JintongClient
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.errors import (
    JintongApiError,
    JintongResponseError,
    JintongSignatureError,
    JintongTransportError,
)

from ..fake_session import FakeHttpSession

KEY = "partner-key-123"


def answer(code, description, key=KEY, sign=True, bad_sign=False):
    model = {"MessageCode": code, "Description": description}
    sign_xml = ""
    if sign:
        value = signing.sign({"MessageModel": model}, key)
        if bad_sign:
            value = "0" * 32
        sign_xml = "<Sign>%s</Sign>" % value
    xml = ("<Response><MessageModel><MessageCode>%s</MessageCode><Description>%s</Description></MessageModel>%s"
           "</Response>" % (code, description, sign_xml))
    return quote(xml).encode()


def Transport(*answers):  # noqa: N802 - reads like the class it stands for
    return FakeHttpSession(answers)


def make(transport):
    return JintongClient("http://jintong.test/", "jane88", KEY, session=transport)


def test_request_form_and_signature():
    transport = Transport((200, answer("CallSuccess", "操作成功")))
    result = make(transport).cancel_order("151103654827", "jane88", "取消")
    assert result.changed and result.signature_verified and result.message_code == "CallSuccess"
    request = transport.requests[0]
    assert request["url"] == "http://jintong.test/Api/OrderOpenApi.ashx"
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(request["body"].decode("ascii")).items()}
    assert form["Partner"] == "jane88" and form["Action"] == "OperateCancelOrder"
    assert form["RequestFmt"] == "XML" and form["ResponseFmt"] == "XML"
    assert form["SignType"] == "MD5" and form["Version"] == "1.0.0.0"
    assert "<Remark>%e5%8f%96%e6%b6%88</Remark>" in form["Param"]
    joined = ("Action=OperateCancelOrder&Param=Consumer=jane88&OrderID=151103654827&Remark=取消"
              "&Partner=jane88&RequestFmt=XML&ResponseFmt=XML&Version=1.0.0.0")
    import hashlib
    assert form["Sign"] == hashlib.md5((joined + KEY).encode()).hexdigest()
    assert KEY not in request["body"].decode("ascii")


def test_already_cancelled_is_no_change():
    transport = Transport((200, answer("CallFail", "订单已取消")))
    result = make(transport).cancel_order("1", "jane88", "x")
    assert not result.changed and result.already_cancelled


@pytest.mark.parametrize("code, words", [
    ("SignFail", "'key'"),
    ("UnfoundUserInfo", "'partner'"),
    ("UnauthorizedIp", "IP address"),
    ("CallFail", "refused"),
    ("Unauthorized", "does not know"),   # the text's failure example; not in table 3.3
])
def test_failure_codes_are_explained(code, words):
    transport = Transport((200, answer(code, "描述")))
    with pytest.raises(JintongApiError) as info:
        make(transport).cancel_order("42", "jane88", "x")
    assert words in info.value.message and code in info.value.message and "描述" in info.value.message
    assert info.value.error_code == code
    assert KEY not in info.value.message


def test_unsigned_failure_is_accepted_as_unverified():
    transport = Transport((200, answer("UnfoundUserInfo", "未找到用户信息", sign=False)))
    with pytest.raises(JintongApiError):
        make(transport).cancel_order("1", "jane88", "x")


def test_unsigned_success_is_reported_unverified():
    transport = Transport((200, answer("CallSuccess", "操作成功", sign=False)))
    assert make(transport).cancel_order("1", "jane88", "x").signature_verified is False


def test_bad_answer_signature_is_not_trusted():
    transport = Transport((200, answer("CallSuccess", "操作成功", bad_sign=True)))
    with pytest.raises(JintongSignatureError):
        make(transport).cancel_order("1", "jane88", "x")


def test_sign_fail_answer_signed_with_the_right_key_still_reports_sign_fail():
    # The service signs with the partner's real key; our wrong key cannot verify it.
    transport = Transport((200, answer("SignFail", "签名验证失败", key="the-real-key")))
    with pytest.raises(JintongApiError) as info:
        make(transport).cancel_order("1", "jane88", "x")
    assert info.value.error_code == "SignFail" and "did not match" in info.value.message


def test_already_cancelled_with_a_wrong_sign_is_not_trusted():
    transport = Transport((200, answer("CallFail", "订单已取消", bad_sign=True)))
    with pytest.raises(JintongSignatureError):
        make(transport).cancel_order("1", "jane88", "x")


def test_answer_signed_with_another_key_is_not_trusted():
    transport = Transport((200, answer("CallSuccess", "操作成功", key="other")))
    with pytest.raises(JintongSignatureError):
        make(transport).cancel_order("1", "jane88", "x")


def test_not_xml():
    transport = Transport((500, b"Server Error"))
    with pytest.raises(JintongResponseError) as info:
        make(transport).cancel_order("1", "jane88", "x")
    assert info.value.status == 500


def test_xml_without_message_model():
    transport = Transport((200, b"<Response><Foo>1</Foo></Response>"))
    with pytest.raises(JintongResponseError, match="MessageModel"):
        make(transport).cancel_order("1", "jane88", "x")


def test_transport_error_passes_through():
    transport = Transport(JintongTransportError("Could not reach", url="u"))
    with pytest.raises(JintongTransportError):
        make(transport).cancel_order("1", "jane88", "x")

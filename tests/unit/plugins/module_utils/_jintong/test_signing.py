# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import enum
import hashlib

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._jintong import signing

# Seed 004, 1.3.1: "生成的待签名的字符串" of the worked OperateCancelOrder example,
# copied from the text (the text breaks the line after 取消; the string has no newline).
CANCEL_EXAMPLE_JOINED = ("Action=OperateCancelOrder&Param=Consumer=jane88&OrderID=151103654827&Remark=取消"
                         "&Partner=jane88&RequestFmt=XML&ResponseFmt=XML&Version=1.0.0.0")
# Seed 004, 1.3.1: the first (GetOrderDetail) example (line break after UserName in the text).
DETAIL_EXAMPLE_JOINED = ("Action=GetOrderDetail&Param=OrderID=150709904280&UserName"
                         "=jinrigoji7&Partner=989457552&RequestFmt=XML&ResponseFmt=XML&Version=1.0.0.0")


def cancel_example_fields():
    return {
        "Partner": "jane88",
        "Action": "OperateCancelOrder",
        "RequestFmt": "XML",
        "ResponseFmt": "XML",
        "SignType": "MD5",
        "Sign": "62bde96d330808f2b503408f4efa9b80",
        "Version": "1.0.0.0",
        "Param": {"Consumer": "jane88", "OrderID": "151103654827", "Remark": "取消"},
    }


def test_worked_example_joined_string():
    assert signing.signing_string(cancel_example_fields()) == CANCEL_EXAMPLE_JOINED


def test_get_order_detail_example_joined_string():
    fields = {"Partner": "989457552", "Action": "GetOrderDetail", "RequestFmt": "XML", "ResponseFmt": "XML",
              "Version": "1.0.0.0", "SignType": "MD5", "Param": {"UserName": "jinrigoji7", "OrderID": "150709904280"}}
    assert signing.signing_string(fields) == DETAIL_EXAMPLE_JOINED


def test_sign_is_md5_of_joined_plus_key_lower_hex():
    expected = hashlib.md5((CANCEL_EXAMPLE_JOINED + "the-key").encode("utf-8")).hexdigest()
    assert signing.sign(cancel_example_fields(), "the-key") == expected
    assert expected == expected.lower() and len(expected) == 32


def test_text_examples_of_section_2():
    assert signing.signing_string({"key1": "val1", "key2": "val2", "key0": "val0"}) == "key0=val0&key1=val1&key2=val2"
    assert signing.signing_string({"A": "aaa", "B": {"B1": "b111", "B2": "b222"}, "C": "c1"}) == \
        "A=aaa&B=B1=b111&B2=b222&C=c1"


def test_null_and_empty_values_are_left_out():
    assert signing.signing_string({"A": None, "B": "", "C": "c", "D": {"X": None, "Y": ""}}) == "C=c"


def test_ordinal_order_upper_before_lower():
    # string.CompareOrdinal: 'Z' (0x5A) sorts before 'a' (0x61).
    assert signing.signing_string({"apple": "1", "Zoo": "2", "_x": "3"}) == "Zoo=2&_x=3&apple=1"


def test_enum_signed_by_name():
    class State(enum.Enum):
        A = 0
    assert signing.signing_string({"S": State.A, "N": 0}) == "N=0&S=A"


def test_sign_and_signtype_not_signed_but_nested_sign_is():
    assert signing.signing_string({"Sign": "x", "SignType": "MD5", "P": {"Sign": "y"}}) == "P=Sign=y"


def test_verify_is_case_insensitive_and_rejects_tampering():
    fields = cancel_example_fields()
    good = signing.sign(fields, "k")
    assert signing.verify(fields, "k", good.upper())
    fields["Param"]["OrderID"] = "151103654828"
    assert not signing.verify(fields, "k", good)
    assert not signing.verify(fields, "k", None)


@pytest.mark.parametrize("text, encoded", [
    ("取消", "%e5%8f%96%e6%b6%88"),
    ("cancel", "cancel"),
    ("a b+c", "a+b%2bc"),
    ("x-y_z.(1)!*", "x-y_z.(1)!*"),
])
def test_url_encode_like_httputility(text, encoded):
    assert signing.url_encode(text) == encoded
    assert signing.url_decode(encoded) == text


def test_param_xml_encodes_remark_only():
    xml = signing.param_xml({"OrderID": "151103654827", "Consumer": "jane&88", "Remark": "取消"})
    assert xml == ("<Param><Consumer>jane&amp;88</Consumer><OrderID>151103654827</OrderID>"
                   "<Remark>%e5%8f%96%e6%b6%88</Remark></Param>")


RESPONSE_XML = ('<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><MessageModel><MessageCode>CallSuccess</MessageCode>'
                '<Description>操作成功</Description></MessageModel><Sign>78b5d363ac8ba002f547bbc00d30733d</Sign>'
                '</Response>')


def test_parse_url_encoded_answer():
    from urllib.parse import quote
    root, fields = signing.parse_xml_answer(quote(RESPONSE_XML).encode())
    assert root == "Response"
    assert fields["MessageModel"] == {"MessageCode": "CallSuccess", "Description": "操作成功"}
    assert fields["Sign"] == "78b5d363ac8ba002f547bbc00d30733d"
    assert signing.signing_string(fields) == "MessageModel=Description=操作成功&MessageCode=CallSuccess"


def test_parse_plain_answer_and_the_stray_equals_of_the_failure_example():
    _root, fields = signing.parse_xml_answer(RESPONSE_XML)
    assert fields["MessageModel"]["MessageCode"] == "CallSuccess"
    _root, fields = signing.parse_xml_answer(
        "= <Response><MessageModel><MessageCode>Unauthorized</MessageCode>"
        "<Description>没有访问权限</Description></MessageModel></Response>")
    assert fields["MessageModel"]["MessageCode"] == "Unauthorized" and "Sign" not in fields


@pytest.mark.parametrize("body", [b"", b"hello", b"%3cResponse", "<a><b></a>"])
def test_parse_garbage(body):
    with pytest.raises(ValueError):
        signing.parse_xml_answer(body)

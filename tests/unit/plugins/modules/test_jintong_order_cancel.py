# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.module_utils import _http
from ansible_collections.wotrus.pki.plugins.module_utils._jintong import signing
from ansible_collections.wotrus.pki.plugins.modules import jintong_order_cancel

from ..module_utils.fake_session import FakeHttpSession

KEY = "k-secret-1"
ARGS = dict(server_url="http://jintong.test", partner="jane88", key=KEY, order_id="151103654827",
            consumer="jane88", remark="取消")


def answer(code, description):
    model = {"MessageCode": code, "Description": description}
    xml = ("<Response><MessageModel><MessageCode>%s</MessageCode><Description>%s</Description></MessageModel>"
           "<Sign>%s</Sign></Response>" % (code, description, signing.sign({"MessageModel": model}, KEY)))
    return 200, quote(xml).encode()


@pytest.fixture
def sent(monkeypatch):
    fake = FakeHttpSession()
    monkeypatch.setattr(_http.requests, "Session", fake)
    return fake


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            jintong_order_cancel.main()
    return json.loads(capsys.readouterr().out)


def test_check_mode_sends_nothing(sent, capsys):
    result = run(dict(ARGS, _ansible_check_mode=True), capsys)
    assert result["changed"] is True and sent.requests == []


def test_cancel_and_again(sent, capsys):
    sent.answers.extend([answer("CallSuccess", "操作成功"), answer("CallFail", "订单已取消")])
    first = run(ARGS, capsys)
    assert first["changed"] is True and first["signature_verified"] is True
    again = run(ARGS, capsys)
    assert again["changed"] is False and again["already_cancelled"] is True
    assert KEY not in json.dumps(first) + json.dumps(again)


def test_unknown_code_fails_clearly(sent, capsys):
    sent.answers.append(answer("Unauthorized", "没有访问权限"))
    result = run(ARGS, capsys)
    assert result["failed"] is True and result["error_code"] == "Unauthorized"
    assert "Unauthorized" in result["msg"] and "没有访问权限" in result["msg"] and KEY not in json.dumps(result)


@pytest.mark.parametrize("extra,option,words", [
    (dict(order_id=["1", "2"]), "order_id", "must be one order ID"),
    (dict(timeout=0), "timeout", "greater than 0"),
])
def test_bad_input_fails_naming_the_option_before_any_call(sent, capsys, extra, option, words):
    args = dict(ARGS)
    args.update(extra)
    result = run(args, capsys)
    assert result["failed"] is True and result["msg"].startswith(option + ":") and words in result["msg"]
    assert result["option"] == option and sent.requests == []

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.module_utils import _http
from ansible_collections.wotrus.pki.plugins.modules import sectigo_order_status

from ..module_utils._sectigo.helpers import FakeTransport, json_answer, seed_answer

ARGS = dict(login_name="partner", login_password="s3cret-pass", order_number="654824")


def run(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def transport(monkeypatch):
    fake = FakeTransport([])
    monkeypatch.setattr(_http.requests, "Session", fake)
    monkeypatch.setattr(_http.time, "sleep", lambda s: None)
    return fake


def test_returns_sections_domains_and_dcv_values(transport, capsys):
    transport.answers.append(json_answer(seed_answer()))
    result = run(sectigo_order_status, ARGS, capsys)
    assert result["changed"] is False and "failed" not in result
    assert result["order_status"] == "Pending" and result["retries"] == 0
    assert result["domains"][1]["cname_name"] == "_55F0233969C9C4325B1A19D4B357ED20.mnsure.org"
    assert result["sections"]["agreement"]["clickThroughStatus"] == "Executed"
    text = json.dumps(result)
    assert "s3cret-pass" not in text and "uploadDocumentToken" not in text
    assert transport.requests[0]["url"] == "https://secure.trust-provider.com/products/!getPostPaymentStatus"


def test_check_mode_reads_too(transport, capsys):
    transport.answers.append(json_answer(seed_answer()))
    result = run(sectigo_order_status, dict(ARGS, _ansible_check_mode=True), capsys)
    assert result["changed"] is False and result["order_number"] == "654824"


def test_seed_hash_gives_a_warning(transport, capsys):
    transport.answers.append(json_answer(seed_answer(full_hash=False)))
    result = run(sectigo_order_status, ARGS, capsys)
    assert any("SHA256" in str(w) for w in result["warnings"]), result["warnings"]


def test_call_limit_retried(transport, capsys):
    limit = {"errorCode": "-42", "errorMessage": "Call limit reached! Please try again later", "data": {}}
    transport.answers.extend([json_answer(limit), json_answer(seed_answer())])
    result = run(sectigo_order_status, ARGS, capsys)
    assert result["retries"] == 1 and "failed" not in result


def test_failure_is_structured_and_has_no_secret(transport, capsys):
    transport.answers.append(json_answer({"errorCode": "-16", "errorMessage": "Incorrect login details", "data": {}}))
    result = run(sectigo_order_status, ARGS, capsys)
    assert result["failed"] is True and result["error_code"] == -16
    assert "login_name" in result["msg"] and "s3cret-pass" not in json.dumps(result)


def test_needs_a_login_or_session(transport, capsys):
    result = run(sectigo_order_status, dict(order_number="1"), capsys)
    assert result["failed"] is True and "login_name" in result["msg"]


@pytest.mark.parametrize("extra,option,words", [
    (dict(timeout=0), "timeout", "greater than 0"),
    (dict(timeout=-1), "timeout", "greater than 0"),
    (dict(ca_path="/nonexistent"), "ca_path", "/nonexistent does not exist"),
])
def test_bad_connection_option_fails_naming_it_before_any_call(transport, capsys, extra, option, words):
    result = run(sectigo_order_status, dict(ARGS, **extra), capsys)
    assert result["failed"] is True and result["msg"].startswith(option + ":") and words in result["msg"]
    assert result["option"] == option and result["provider"] == "sectigo" and transport.requests == []

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input through the modules: a clear error naming the option, no traceback,
no API call (issue 8, defects 1, 6 and 10). The API is a scripted loopback
server that counts what reaches it."""
from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.modules import wotrus_order, wotrus_order_info

from ..scripted_server import ScriptedServer, envelope
from .helpers import TOKEN

PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
ORDER_ID = "644A3E60-F1AA-4E25-821A-ACFBC462BC37"


@pytest.fixture
def api():
    server = ScriptedServer()
    yield server
    server.close()


def run(module, args, capsys, api):
    base = dict(api_url=api.url, api_token=TOKEN)
    base.update(args)
    with patch_module_args(base):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert "Traceback" not in out.out + out.err and "exception" not in result
    assert TOKEN not in out.out
    return result


def create(**extra):
    args = dict(product_id=PRODUCT, common_name="www.example.com", organization=dict(org_name="Example Ltd"))
    args.update(extra)
    return args


def org(**fields):
    value = dict(org_name="Example Ltd")
    value.update(fields)
    return create(organization=value)


@pytest.mark.parametrize("args,option,words", [
    # defect 1: tracebacks
    (create(ca_path="/nonexistent"), "ca_path", "/nonexistent does not exist"),
    (create(timeout=0), "timeout", "greater than 0"),
    (create(timeout=-1), "timeout", "greater than 0"),
    # defect 6: checks that reached the API
    (org(org_email="not-an-email"), "organization.org_email", "not an e-mail address"),
    (org(user_email="a@b"), "organization.user_email", "not an e-mail address"),
    (org(org_name="x" * 100000), "organization.org_name", "at most 256"),
    (org(street="y" * 257), "organization.street", "at most 256"),
    (org(org_name="Example\u202eLtd"), "organization.org_name", "U+202E"),
    (org(city="Bei\u200bjing"), "organization.city", "U+200B"),
    (org(org_name="Example\x00Ltd"), "organization.org_name", "U+0000"),
    (create(common_name="not a host name!"), "common_name", "not a DNS name or IP address"),
    (create(common_name="Example Ltd"), "common_name", "not a DNS name or IP address"),
    (create(idempotence_id=""), "idempotence_id", "is empty"),
    (create(idempotence_id="   "), "idempotence_id", "is empty"),
    # defect 10: a list taken as the text "['a', 'b']"
    (dict(state="absent", order_id=["a", "b"]), "order_id", "one order ID, not a list"),
])
def test_wotrus_order_refuses_before_any_call(args, option, words, capsys, api):
    result = run(wotrus_order, args, capsys, api)
    assert result["failed"] is True
    assert result["msg"].startswith(option + ":") and words in result["msg"]
    assert result["option"] == option and result["error_kind"] == "input"
    assert api.requests == []


def test_order_info_refuses_a_list_order_id(capsys, api):
    result = run(wotrus_order_info, dict(order_id=["a", "b"]), capsys, api)
    assert result["failed"] is True and result["msg"].startswith("order_id: must be one order ID")
    assert api.requests == []


def test_ca_path_from_wotrus_ca_path(capsys, api, monkeypatch):
    """The modules read WOTRUS_CA_PATH like the role does."""
    monkeypatch.setenv("WOTRUS_CA_PATH", "/nonexistent/roots.pem")
    result = run(wotrus_order_info, dict(order_id=ORDER_ID), capsys, api)
    assert result["failed"] is True and result["msg"].startswith("ca_path: /nonexistent/roots.pem does not exist")
    assert api.requests == []


def test_name_products_take_a_name_as_common_name(capsys, api):
    """Document-signing products: commonName is the organisation's name, not a host."""
    api.push((200, {}, envelope({"orderId": ORDER_ID})),
             (200, {}, envelope({"id": ORDER_ID, "status": "pending", "isPay": 1})))
    result = run(wotrus_order, create(product_id="2C17C336-A772-42F8-B3DD-4F2591A5B116",
                                      common_name="Example Ltd"), capsys, api)
    assert not result.get("failed"), result
    assert result["order_id"] == ORDER_ID


@pytest.mark.parametrize("value", ["Beijing 北京", "O'Brien & Sons, Ltd.", "Zürich"])
def test_ordinary_organisation_text_passes(value, capsys, api):
    api.push((200, {}, envelope({"orderId": ORDER_ID})),
             (200, {}, envelope({"id": ORDER_ID, "status": "pendingAutoIssue", "isPay": 1})))
    result = run(wotrus_order, org(org_name=value, org_email="pki@example.com"), capsys, api)
    assert not result.get("failed"), result
    sent = json.loads(api.requests[0]["body"])
    assert sent["organizationPost"]["orgName"] == value and sent["organizationPost"]["orgEmail"] == "pki@example.com"

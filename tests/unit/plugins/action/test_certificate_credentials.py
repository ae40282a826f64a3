# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_credentials: a wrong or missing token and a bad CA bundle fail naming the role
variable and never show the token; a network failure is a warning; a good token passes."""

from __future__ import annotations

import pytest
from ansible.module_utils import _internal

_WAS_CONTROLLER = _internal.is_controller
from ansible_collections.wotrus.pki.plugins.action import certificate_credentials as plugin  # noqa: E402
_internal.is_controller = _WAS_CONTROLLER

from ..module_utils._wotrus.helpers import client, ok, response  # noqa: E402

TOKEN = "tk_SENTINEL_cred_5e1f"


def args(**kw):
    a = dict(api_url="https://api.test", api_token=TOKEN, validate_certs=True, ca_path=None, timeout=5.0)
    a.update(kw)
    return a


def connect_to(script):
    made = []

    def connect(api_url, api_token, **kw):
        kw.pop("log", None)
        c = client(script, token=api_token, retries=0, **kw)
        made.append(c)
        return c
    connect.made = made
    return connect


def test_not_found_proves_the_token():
    connect = connect_to([response(200, {"isSuccess": False, "errorMsg": "order not found", "data": None})])
    out = plugin.check(args(), connect=connect)
    assert out["checked"] and not out.get("failed") and len(connect.made[0].fake.requests) == 1


def test_a_wrong_token_fails_naming_the_variable_without_the_token():
    out = plugin.check(args(), connect=connect_to([response(401, raw=b"")]))
    assert out["failed"] and "certificate_api_token" in out["msg"] and "HTTP 401" in out["msg"]
    assert "nothing was changed" in out["msg"] and TOKEN not in repr(out)


@pytest.mark.parametrize("token", [None, "", "has space"])
def test_a_missing_or_bad_token_fails_before_any_call(monkeypatch, token):
    monkeypatch.delenv("WOTRUS_API_TOKEN", raising=False)
    out = plugin.check(args(api_token=token), connect=plugin.engine.connect)
    assert out["failed"] and out["msg"].startswith("certificate_api_token") and "nothing was changed" in out["msg"]


def test_a_bad_ca_path_fails_naming_the_variable(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    out = plugin.check(args(ca_path=str(bad)), connect=plugin.engine.connect)
    assert out["failed"] and "certificate_ca_path" in out["msg"]


def test_a_tls_failure_fails_naming_ca_path():
    import requests
    script = [requests.exceptions.SSLError("certificate verify failed: unable to get local issuer certificate")]
    out = plugin.check(args(), connect=connect_to(script))
    assert out["failed"] and "certificate_ca_path" in out["msg"] and TOKEN not in repr(out)


def test_a_network_failure_is_only_a_warning():
    import requests
    out = plugin.check(args(), connect=connect_to([requests.exceptions.ConnectionError("refused")] * 3))
    assert not out.get("failed") and not out["checked"] and "could not reach a verdict" in out["msg"]


def test_found_is_also_fine():
    out = plugin.check(args(), connect=connect_to([ok({"id": "x", "status": "issued"})]))
    assert out["checked"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_only_a_warning(status):
    out = plugin.check(args(), connect=connect_to([response(status, raw=b"upstream trouble")] * 3))
    assert not out.get("failed") and not out["checked"] and "could not reach a verdict" in out["msg"], out
    assert TOKEN not in repr(out)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API calls per certificate (Create + RetrievePem when issued at once, no call more when
not), the issued-at-once hint, and the credential check's one read call."""
from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import AuthError, TransportError

from .helpers import TOKEN, Pki, client, key, make_csr, ok, pem, response

ORDER_ID = "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


def request(k):
    csr = inputs.load_csr(make_csr(k), "csr")
    return engine.CreateRequest(PRODUCT, "www.example.com", ["www.example.com", "example.com"], 12, csr=csr,
                                organization={"orgName": "Example Ltd"})


def refused(msg):
    return response(200, {"isSuccess": False, "errorMsg": msg, "successMsg": "", "data": None, "page": None})


def paths(c):
    return [(r["method"], r["url"].split("api.test", 1)[1].split("?")[0]) for r in c.fake.requests]


def new_certificate(c, req, fetch_first, csr_pem):
    """What certificate_issue does for a new order: create, wait, fetch."""
    out = engine.create(c, req, fetch_first=fetch_first, claims=lambda order_id, key: True)
    waited = engine.wait(c, out["order_id"], 60, sleep=lambda s: None, order=out["order"])
    assert waited.state == engine.ISSUED
    return out, engine.fetch(c, out["order_id"], csr=csr_pem, pems=out.get("pems"))


def test_issued_at_once_costs_two_calls_with_the_hint():
    pki = Pki()
    csr_pem = make_csr(pki.leaf_key)
    c = client([ok({"orderId": ORDER_ID}),
                ok({"pem_RSA": pem(pki.leaf), "chains_RSA": [pem(pki.root), pem(pki.intermediate)]})])
    out, facts = new_certificate(c, request(pki.leaf_key), True, csr_pem)
    assert paths(c) == [("POST", "/v1/Order/Create"), ("GET", "/v1/Certificate/RetrievePem")]
    assert out["created"] and out["status"] == "issued" and out["order_id"] == ORDER_ID
    assert facts["serial_number"] and facts["chain_complete"]


def test_without_the_hint_an_order_issued_at_once_costs_three_calls_as_before():
    pki = Pki()
    c = client([ok({"orderId": ORDER_ID}), ok({"id": ORDER_ID, "status": "issued", "isPay": 1}),
                ok({"pem_RSA": pem(pki.leaf), "chains_RSA": [pem(pki.root), pem(pki.intermediate)]})])
    new_certificate(c, request(pki.leaf_key), False, make_csr(pki.leaf_key))
    assert [path for method, path in paths(c)] == ["/v1/Order/Create", "/v1/Order/" + ORDER_ID, "/v1/Certificate/RetrievePem"]


def test_an_order_that_waits_costs_no_call_more_without_the_hint():
    c = client([ok({"orderId": ORDER_ID}), ok({"id": ORDER_ID, "status": "pendingDCV", "isPay": 1})])
    out = engine.create(c, request(key()), fetch_first=False, claims=lambda order_id, key: True)
    assert len(c.fake.requests) == 2 and out["status"] == "pendingDCV" and "pems" not in out


def test_a_wrong_hint_costs_one_call_and_reads_the_order():
    c = client([ok({"orderId": ORDER_ID}), refused("the certificate is not issued yet (status pendingDCV)"),
                ok({"id": ORDER_ID, "status": "pendingDCV", "isPay": 1})])
    out = engine.create(c, request(key()), fetch_first=True, claims=lambda order_id, key: True)
    assert [path for method, path in paths(c)] == ["/v1/Order/Create", "/v1/Certificate/RetrievePem", "/v1/Order/" + ORDER_ID]
    assert out["status"] == "pendingDCV" and "pems" not in out


def test_the_hint_is_kept_per_api_url_and_product_and_cleared(tmp_path):
    d = str(tmp_path / "claims")
    assert not engine.issued_at_once_hint("https://a", PRODUCT, directory=d)
    engine.remember_issued_at_once("https://a", PRODUCT, True, directory=d)
    assert engine.issued_at_once_hint("https://a", PRODUCT.lower(), directory=d)
    assert not engine.issued_at_once_hint("https://b", PRODUCT, directory=d)
    assert not engine.issued_at_once_hint("https://a", PRODUCT, directory=d, now=10 ** 12)
    engine.remember_issued_at_once("https://a", PRODUCT, False, directory=d)
    assert not engine.issued_at_once_hint("https://a", PRODUCT, directory=d)
    engine.remember_issued_at_once("https://a", PRODUCT, False, directory=d)  # nothing to clear: no error


# -- the credential check -----------------------------------------------------------
def test_credential_check_is_one_get_and_not_found_proves_the_token():
    c = client([refused("order 00000000-0000-0000-0000-000000000000 not found")])
    out = engine.check_credentials(c)
    assert out["checked"] and paths(c) == [("GET", "/v1/Order/" + engine.PROBE_ORDER_ID)]
    assert c.fake.requests[0]["headers"]["WoTrusToken"] == TOKEN


def test_credential_check_404_also_proves_the_token():
    c = client([response(404, {"isSuccess": False, "errorMsg": "not found"})])
    assert engine.check_credentials(c)["checked"]


def test_credential_check_401_raises_auth_error_without_the_token():
    c = client([response(401, raw=b"")])
    with pytest.raises(AuthError) as ei:
        engine.check_credentials(c)
    assert ei.value.status == 401 and TOKEN not in str(ei.value)
    assert len(c.fake.requests) == 1


def test_credential_check_5xx_is_a_transport_error():
    c = client([response(503, raw=b"down")] * 5, retries=0)
    with pytest.raises(TransportError):
        engine.check_credentials(c)

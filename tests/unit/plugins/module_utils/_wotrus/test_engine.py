# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""engine.py: the one wait loop, who may say "created", the reissue plan, fetching revoked orders,
the connection's environment fallbacks."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    InputError,
    OrderStateError,
    WaitTimeout,
)

from .helpers import Pki, client, key, make_csr, ok, pem, response

ORDER_ID = "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


def create_time(days_ago):
    # createTime as the service sends it: naive, in the provider's zone (UTC+08:00).
    when = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))) - datetime.timedelta(days=days_ago)
    return when.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def request(**kw):
    csr = inputs.load_csr(make_csr(key()), "csr")
    args = dict(csr=csr, organization={"orgName": "Example Ltd"})
    args.update(kw)
    return engine.CreateRequest(PRODUCT, "www.example.com", ["www.example.com", "example.com"], 12, **args)


def create(req, status="pendingDCV", days_ago=0, claims=lambda order_id, key: True, **kw):
    c = client([ok({"orderId": ORDER_ID}),
                ok({"id": ORDER_ID, "status": status, "isPay": 1, "createTime": create_time(days_ago)})])
    return engine.create(c, req, claims=claims, **kw), c


# -- the wait loop --------------------------------------------------------------
def test_wait_returns_at_once_on_issued_in_any_casing():
    c = client([])
    waited = engine.wait(c, "x", 0, sleep=lambda s: None, order={"status": "Issued"})
    assert waited.state == engine.ISSUED and waited.order == {"status": "Issued"}
    assert c.fake.requests == []


def test_wait_polls_until_issued_in_another_casing_and_reports_progress():
    c = client([ok({"status": "PENDINGDCV"}), ok({"status": "ISSUED"})])
    ticks = iter(range(100))
    seen = []
    waited = engine.wait(c, "x", 60, sleep=lambda s: None, clock=lambda: next(ticks),
                         progress=lambda look: seen.append(look.summary["status"]))
    assert waited.state == engine.ISSUED and waited.order["status"] == "ISSUED" and waited.polls == 2
    assert seen == ["pendingDCV"]


def test_wait_stops_on_dead_status_in_any_casing():
    waited = engine.wait(client([]), "x", 60, sleep=lambda s: None, order={"status": "REJECTED"})
    assert waited.state == engine.DEAD
    with pytest.raises(OrderStateError) as ei:
        waited.raise_unless_issued("x", 60)
    assert "rejected" in str(ei.value)


def test_unknown_status_is_waited_on_not_final():
    waited = engine.wait(client([]), "x", 0, sleep=lambda s: None, order={"status": "Reissued"})
    assert waited.state == engine.TIMEOUT
    with pytest.raises(WaitTimeout) as ei:
        waited.raise_unless_issued("x", 0)
    assert "Reissued" in str(ei.value)


def test_on_pending_hook_sees_each_look_and_can_stop():
    c = client([ok({"status": "pendingDCV", "orderNumber": 7})])
    looks = []

    def hook(summary, order):
        looks.append(summary["status"])
        return len(looks) == 2
    ticks = iter(range(100))
    waited = engine.wait(c, "x", 60, sleep=lambda s: None, clock=lambda: next(ticks), on_pending=hook,
                         order={"status": "pendingDCV"})
    assert waited.state == engine.STOPPED and looks == ["pendingDCV", "pendingDCV"]
    assert waited.summary["order_number"] == 7


# -- create: who says created -----------------------------------------------------
def test_the_run_whose_create_made_the_order_says_created():
    out, c = create(request())
    assert out["created"] is True and out["changed"] is True and out["existing"] is False
    assert out["order_id"] == ORDER_ID and out["record"]["order_id"] == ORDER_ID
    assert out["record"]["idempotence_id"] == out["idempotence_id"] and out["warnings"] == []


def test_a_resent_create_whose_order_was_claimed_here_is_not_created(tmp_path):
    def claim(order_id, key):
        return engine.claim(order_id, key, directory=str(tmp_path))
    req = request()
    first, dummy = create(req, claims=claim)
    again, dummy = create(req, claims=claim)
    assert first["created"] is True
    assert again["created"] is False and again["changed"] is False and again["existing"] is True
    assert again["order_id"] == first["order_id"]


def test_an_order_older_than_the_run_is_never_created_here():
    out, dummy = create(request(), status="pendingDCV", days_ago=1)
    assert out["created"] is False and out["changed"] is False


def test_claims_are_per_order_and_key(tmp_path):
    assert engine.claim("o1", "k", directory=str(tmp_path)) is True
    assert engine.claim("o1", "k", directory=str(tmp_path)) is False
    assert engine.claim("o2", "k", directory=str(tmp_path)) is True  # a fresh order for a reused key
    assert engine.claim("o1", "k2", directory=str(tmp_path)) is True


@pytest.mark.parametrize("status", ["issued", "Issued", "revoked", "closed"])
def test_derived_id_returning_last_years_order_warns(status):
    out, dummy = create(request(), status=status, days_ago=365)
    assert out["changed"] is False and out["created"] is False
    assert out["idempotence_id"].startswith("wtp-")
    assert len(out["warnings"]) == 1
    msg = out["warnings"][0]
    assert "this Create returned an existing order %s created at " % ORDER_ID in msg
    assert out["idempotence_id"] in msg
    assert "to order a new certificate (a renewal) with the same key, pass a new idempotence_id" in msg.lower()


@pytest.mark.parametrize("kw,status,days_ago", [
    (dict(idempotence_id="crm-order-4711"), "issued", 365),  # the user chose the key: their call
    (dict(), "issued", 0.5),          # an honest re-run on the same day
    (dict(), "pendingDCV", 365),      # still the order being worked on
    (dict(), "issued", 0),            # created by this run
])
def test_no_warning(kw, status, days_ago):
    out, dummy = create(request(**kw), status=status, days_ago=days_ago)
    assert out["warnings"] == []


def test_a_recorded_order_is_adopted_without_create():
    req = request()
    c = client([ok({"id": ORDER_ID, "status": "issued"})])
    out = engine.create(c, req, record={"order_id": ORDER_ID, "idempotence_id": req.idempotence_id})
    assert out["changed"] is False and out["existing"] is True and out["order_id"] == ORDER_ID
    assert [r["method"] for r in c.fake.requests] == ["GET"]


def test_check_mode_sends_nothing():
    c = client([])
    out = engine.create(c, request(), check_mode=True)
    assert out["changed"] is True and out["created"] is True and "order_id" not in out
    assert c.fake.requests == []


def test_the_role_binding_keeps_the_ids_it_derived_before():
    """The role's derived ids are unchanged by the move into the engine: a crash between Create and the
    record, then a re-run with the new code, must send the same id."""
    import hashlib
    import json
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
    csr = inputs.load_csr(make_csr(key()), "csr")
    binding = dict(host="web1", name="www", replaces="0A", after="")
    req = engine.CreateRequest(PRODUCT, "www.example.com", ["www.example.com", "example.com"], 12, csr=csr,
                               binding=binding)
    old_binding = hashlib.sha256(json.dumps(dict(binding, key=csr.public_key_sha256()), sort_keys=True,
                                            separators=(",", ":")).encode("utf-8")).hexdigest()
    assert req.idempotence_id == orders.derive_idempotence_id(
        PRODUCT, "www.example.com", ["example.com", "www.example.com"], csr_key_sha256=old_binding, month=12)


# -- reissue ------------------------------------------------------------------------
ISSUED = {"id": ORDER_ID, "status": "issued", "cn": "www.example.com", "sn": "www.example.com,example.com",
          "productID": PRODUCT, "month": 12}


def reissue_request(cn="www.example.com", sans=("www.example.com", "example.com"), **kw):
    return engine.ReissueRequest(ORDER_ID, inputs.load_csr(make_csr(key(), cn, sans), "csr"), "key rotation", **kw)


def test_reissue_plan_accepts_the_orders_names_in_any_case():
    assert engine.reissue_plan(ISSUED, reissue_request("WWW.example.com", ("example.com", "www.example.com"))) \
        == "reissue"


@pytest.mark.parametrize("cn,sans,words", [
    ("www.example.com", ("www.example.com", "example.com", "evil.example"), "not in the order: evil.example"),
    ("www.example.com", ("www.example.com",), "missing from the CSR: example.com"),
    ("other.example.com", ("other.example.com",), "missing from the CSR"),
])
def test_a_reissue_csr_with_other_names_fails_before_any_call(cn, sans, words):
    c = client([ok(dict(ISSUED))])
    with pytest.raises(InputError) as ei:
        engine.reissue(c, reissue_request(cn, sans), csr_option="csr_path")
    assert ei.value.option == "csr_path" and words in str(ei.value)
    assert [r["method"] for r in c.fake.requests] == ["GET"]  # no ReissueRequest sent


def test_reissue_of_a_not_issued_order_is_refused_locally():
    with pytest.raises(OrderStateError):
        engine.reissue_plan(dict(ISSUED, status="pendingDCV"), reissue_request())


def test_an_sm2_order_needs_the_proof_under_the_callers_option_name():
    with pytest.raises(InputError) as ei:
        engine.reissue_plan(dict(ISSUED, csr_Sign="x"), reissue_request(), proof_option="certificate_reissue_proof_path")
    assert ei.value.option == "certificate_reissue_proof_path"


def refused(error_msg):
    return response(200, {"isSuccess": False, "errorMsg": error_msg, "successMsg": "", "data": None, "page": None})


@pytest.mark.parametrize("error_msg,hint", [
    ("fileType is required", True),                     # the refusal is about the missing letter
    ("csr names do not match the order", False),        # a name mismatch the local check let through
    ("only an issued order can be reissued", False),    # a DV order raced into another state
])
def test_the_proof_hint_only_when_the_refusal_is_about_the_proof(error_msg, hint):
    c = client([ok(dict(ISSUED)), refused(error_msg)])
    with pytest.raises(ApiError) as ei:
        engine.reissue(c, reissue_request())
    assert ("give proof_path" in str(ei.value)) is hint
    assert "SM2 and Sectigo products need proof_path" not in str(ei.value)


def test_reissue_returns_the_new_order_and_its_record():
    new_id = "NEW-1"
    c = client([ok(dict(ISSUED)), ok({"newOrderID": new_id}),
                ok({"id": new_id, "status": "pendingAutoIssue", "createTime": create_time(0)})])
    out = engine.reissue(c, reissue_request(), claims=lambda order_id, key: True)
    assert out["changed"] and out["new_order_id"] == new_id and out["order_id"] == ORDER_ID
    assert out["record"]["reissued_from"] == ORDER_ID and out["record"]["idempotence_id"].startswith("wtr-")
    assert out["record"]["month"] == 12 and out["status"] == "pendingAutoIssue"


# -- fetch ----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["issued", "revoked", "pendingRevoke", "PendingRevoke"])
def test_revoked_orders_were_issued_and_can_be_fetched(status):
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders, protocol
    assert engine.fetchable(orders.status_of({"status": status}))
    pki = Pki()
    c = client([ok({"pem_RSA": pem(pki.leaf), "chains_RSA": [pem(pki.root), pem(pki.intermediate)]})])
    facts = engine.fetch(c, "x")
    assert facts["certificate"] == pem(pki.leaf) and facts["chain"] == pem(pki.intermediate)
    assert facts["kinds"] == ["rsa"]
    assert not engine.fetchable(protocol.STATUS_REJECTED) and not engine.fetchable(protocol.STATUS_PENDING_DCV)


def test_fetch_checks_the_key_against_the_csr():
    pki = Pki()
    c = client([ok({"pem_RSA": pem(pki.leaf), "chains_RSA": [pem(pki.root), pem(pki.intermediate)]})])
    with pytest.raises(OrderStateError) as ei:
        engine.fetch(c, "x", csr=make_csr(key()))
    assert "does not hold the CSR's public key" in str(ei.value)


# -- connection ---------------------------------------------------------------------
def test_environment_fallbacks_in_one_place():
    env = {"WOTRUS_API_URL": "https://env.example", "WOTRUS_API_TOKEN": "t", "WOTRUS_CA_PATH": "/ca.pem"}
    assert engine.connection_settings(environ=env) == dict(api_url="https://env.example", api_token="t",
                                                           ca_path="/ca.pem")
    assert engine.connection_settings("https://given", "g", "/g.pem", environ=env) == dict(
        api_url="https://given", api_token="g", ca_path="/g.pem")
    assert engine.connection_settings(environ={})["api_url"] == "https://restapi.wosign.com"

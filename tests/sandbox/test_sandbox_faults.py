# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each scripted fault kind, as a client sees it."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox_helpers import create_body
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.testing import SandboxError

CREATE = "POST /v1/Order/Create"
QUERY = "GET /v1/Order/{id}"


def _fault(sb, **spec):
    f = sb.mgmt_post("/faults", spec)
    assert f["kind"] == spec["kind"]
    return f


def test_http_500(client, sb):
    _fault(sb, endpoint=CREATE, kind="http_500", count=2)
    for _ in range(2):
        r = client.post(protocol.PATH_CREATE, create_body())
        assert r.status_code == 500
    assert sb.mgmt_get("/orders") == [], "not executed"
    assert client.post(protocol.PATH_CREATE, create_body()).json()["isSuccess"] is True
    assert sb.mgmt_get("/counts")[CREATE] == 3
    assert sb.mgmt_get("/faults") == []


@pytest.mark.parametrize("kind,status", [("http_503", 503), ("http_429", 429)])
def test_retry_after(client, sb, kind, status):
    _fault(sb, endpoint=QUERY, kind=kind, retry_after=7)
    r = client.get("/v1/Order/ABC")
    assert r.status_code == status and r.headers["Retry-After"] == "7"
    assert client.get("/v1/Order/ABC").status_code == 200


def test_429_default_retry_after(client, sb):
    _fault(sb, endpoint=QUERY, kind="http_429")
    assert client.get("/v1/Order/ABC").headers["Retry-After"] == "1"


def test_reset_is_not_executed(client, sb):
    _fault(sb, endpoint=CREATE, kind="reset")
    with pytest.raises(requests.ConnectionError):
        client.post(protocol.PATH_CREATE, create_body(idem="reset-1"))
    assert sb.mgmt_get("/orders") == []


def test_commit_then_drop_then_retry_with_same_key(client, sb):
    _fault(sb, endpoint=CREATE, kind="commit_then_drop")
    body = create_body(idem="ctd-1")
    with pytest.raises(requests.ConnectionError):
        client.post(protocol.PATH_CREATE, body)
    [o] = sb.mgmt_get("/orders")
    assert o["idempotence_id"] == "ctd-1", "committed although the answer was dropped"
    j = client.post(protocol.PATH_CREATE, body).json()
    assert j["isSuccess"] and j["data"]["orderId"] == o["id"]
    assert sb.mgmt_get("/idempotence") == {"ctd-1": 1}
    # the CSR signed again by the same key is the same request (ECDSA signatures differ each time)
    j = client.post(protocol.PATH_CREATE, create_body(idem="ctd-1")).json()
    assert j["isSuccess"] and j["data"]["orderId"] == o["id"]
    j = client.post(protocol.PATH_CREATE, create_body(idem="ctd-1", month=24)).json()
    assert j["isSuccess"] is False and "different parameters" in j["errorMsg"]
    assert len(sb.mgmt_get("/orders")) == 1


def test_malformed_json(client, sb):
    _fault(sb, endpoint=QUERY, kind="malformed_json")
    r = client.get("/v1/Order/ABC")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(r.text)


def test_is_success_false(client, sb):
    _fault(sb, endpoint=CREATE, kind="is_success_false", error_msg="系统繁忙")
    j = client.post(protocol.PATH_CREATE, create_body()).json()
    assert j["isSuccess"] is False and j["errorMsg"] == "系统繁忙" and j["data"] is None
    assert sb.mgmt_get("/orders") == []


def test_execute_flag_commits_behind_an_error(client, sb):
    _fault(sb, endpoint=CREATE, kind="http_500", execute=True)
    assert client.post(protocol.PATH_CREATE, create_body(idem="x500")).status_code == 500
    assert sb.mgmt_get("/idempotence") == {"x500": 1}


def test_slow(client, sb):
    _fault(sb, endpoint=QUERY, kind="slow", delay=1.0)
    t = time.monotonic()
    r = client.get("/v1/Order/ABC")
    assert time.monotonic() - t >= 0.95 and r.status_code == 200 and r.json()["isSuccess"] is False
    with pytest.raises(requests.Timeout):
        _fault(sb, endpoint=QUERY, kind="slow", delay=2.0)
        client.get("/v1/Order/ABC", timeout=0.5)


def _wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return check()


def test_slow_create_takes_effect_after_the_client_gave_up(client, sb):
    _fault(sb, endpoint=CREATE, kind="slow", delay=1.0)
    with pytest.raises(requests.Timeout):
        client.post(protocol.PATH_CREATE, create_body(idem="slow-create"), timeout=0.3)
    assert _wait_for(lambda: sb.mgmt_get("/idempotence")) == {"slow-create": 1}, "the slow Create was never executed"
    [order] = sb.mgmt_get("/orders")
    # the resend finds that order: still one
    j = client.post(protocol.PATH_CREATE, create_body(idem="slow-create")).json()
    assert j["isSuccess"] and j["data"]["orderId"] == order["id"]
    assert len(sb.mgmt_get("/orders")) == 1
    assert "Traceback" not in (sb.state_dir / "sandbox.log").read_text()


def test_slow_cancel_takes_effect_after_the_client_gave_up(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 600}})
    oid = client.create_ok(idem="slow-cancel")
    _fault(sb, endpoint="POST /v1/Order/Cancel", kind="slow", delay=1.0)
    with pytest.raises(requests.Timeout):
        client.post(protocol.PATH_CANCEL, {"orderID": oid, "reason": "slow"}, timeout=0.3)
    assert _wait_for(lambda: sb.mgmt_get("/orders/" + oid)["status"] == protocol.STATUS_CLOSED), \
        "the slow Cancel was never executed"
    assert sb.mgmt_get("/orders/" + oid)["cancel_reason"] == "slow"


def test_wildcard_and_queue_order(client, sb):
    _fault(sb, endpoint="*", kind="http_503")
    _fault(sb, endpoint=QUERY, kind="http_429")
    assert client.get("/v1/Order/A").status_code == 429  # the endpoint's own queue first
    assert client.post(protocol.PATH_CANCEL, {"orderID": "A"}).status_code == 503
    assert client.get("/v1/Order/A").status_code == 200


def test_faults_do_not_eat_unauthenticated_calls(client, sb):
    _fault(sb, endpoint=QUERY, kind="http_500")
    assert client.get("/v1/Order/A", token="wrong").status_code == 401
    assert client.get("/v1/Order/A").status_code == 500


def test_fault_validation_and_clear(sb):
    for bad in ({"endpoint": "GET /nope", "kind": "reset"}, {"endpoint": CREATE, "kind": "explode"},
                {"endpoint": CREATE, "kind": "reset", "count": 0}, {"endpoint": CREATE, "kind": "slow", "delay": -1},
                {"endpoint": CREATE, "kind": "reset", "colour": "red"}):
        with pytest.raises(SandboxError):
            sb.mgmt_post("/faults", bad)
    _fault(sb, endpoint=CREATE, kind="reset", count=5)
    assert len(sb.mgmt_get("/faults")) == 1
    sb.mgmt_delete("/faults")
    assert sb.mgmt_get("/faults") == []


def test_rate_limit_answers_429_with_retry_after(client, sb):
    """rate_limit: past N calls in S seconds, 429 with Retry-After, not executed, counted."""
    sb.mgmt_post("/config", {"rate_limit": {"requests": 3, "per": 2}})
    try:
        answers = [client.post(protocol.PATH_CREATE, create_body(idem="rl-%d" % i)) for i in range(5)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
        assert all(1 <= int(r.headers["Retry-After"]) <= 2 for r in answers[3:])
        assert len(sb.mgmt_get("/orders")) == 3, "a call answered 429 is not executed"
        assert sb.mgmt_get("/counts")["429 rate_limit"] == 2
        time.sleep(int(answers[-1].headers["Retry-After"]))
        assert client.get("/v1/Order/ABC").status_code == 200, "the window has room again"
    finally:
        sb.mgmt_post("/config", {"rate_limit": None})


def test_rate_limit_must_be_well_formed(sb):
    for bad in ({"requests": 0, "per": 1}, {"requests": 5}, {"requests": 5, "per": 0}, 5):
        with pytest.raises(SandboxError):
            sb.mgmt_post("/config", {"rate_limit": bad})

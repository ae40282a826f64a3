# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The process: restart keeps state, concurrency, idempotency race, CLI refusals, management API."""

from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import stat
import subprocess
import sys
import threading

import requests

from sandbox_helpers import Client, create_body
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.testing import SandboxProcess


def test_idempotency_race_makes_exactly_one_order(client, sb):
    body = create_body(idem="race-key-1")
    barrier = threading.Barrier(20)

    def one(_):
        s = requests.Session()
        barrier.wait()
        r = s.post(sb.api_url + protocol.PATH_CREATE, json=body, headers=sb.headers(), verify=sb.roots, timeout=30)
        return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        results = list(ex.map(one, range(20)))
    assert all(code == 200 and j["isSuccess"] for code, j in results), results
    ids = {j["data"]["orderId"] for _, j in results}
    assert len(ids) == 1
    assert sb.mgmt_get("/idempotence") == {"race-key-1": 1}
    assert len(sb.mgmt_get("/orders")) == 1
    assert sb.mgmt_get("/counts")["POST /v1/Order/Create"] == 20


def test_200_concurrent_clients(client, sb):
    n = 200
    barrier = threading.Barrier(n)
    bodies = [create_body(cn="c%d.example.com" % i, hosts=(), idem="conc-%d" % i) for i in range(n)]

    def one(i):
        s = requests.Session()
        barrier.wait()
        r = s.post(sb.api_url + protocol.PATH_CREATE, json=bodies[i], headers=sb.headers(), verify=sb.roots, timeout=60)
        j = r.json()
        assert r.status_code == 200 and j["isSuccess"], j
        oid = j["data"]["orderId"]
        r = s.get(sb.api_url + "/v1/Order/" + oid, headers=sb.headers(), verify=sb.roots, timeout=60)
        assert r.status_code == 200 and r.json()["isSuccess"]
        return oid

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        ids = list(ex.map(one, range(n)))
    assert len(set(ids)) == n
    counts = sb.mgmt_get("/counts")
    assert counts["POST /v1/Order/Create"] == n and counts["GET /v1/Order/{id}"] == n
    assert len(sb.mgmt_get("/orders")) == n


def test_restart_keeps_ca_orders_and_counters(tmp_path):
    state = tmp_path / "state"
    sb = SandboxProcess(state_dir=state)
    try:
        sb.start()
        c = Client(sb)
        oid = c.create_ok(idem="keep-1")
        c.wait_status(oid, protocol.STATUS_ISSUED)
        pem = c.retrieve(oid)["data"]["pem_RSA"]
        roots = open(sb.roots).read()
        counts = sb.mgmt_get("/counts")
        first_pid = sb.pid
        sb.kill()  # a crash, not a clean stop
        sb.start()
        assert sb.pid != first_pid
        assert open(sb.roots).read() == roots
        c = Client(sb)
        assert c.retrieve(oid)["data"]["pem_RSA"] == pem
        assert sb.mgmt_get("/counts")["total"] == counts["total"] + 1
        assert sb.mgmt_get("/idempotence") == {"keep-1": 1}
        j = c.create(idem="keep-1")
        assert j["isSuccess"] is True and j["data"]["orderId"] == oid, "the key survives the restart"
        j = c.create(idem="keep-1", month=24)
        assert j["isSuccess"] is False and "different parameters" in j["errorMsg"]
        assert sb.stop() == 0, "SIGTERM stops cleanly"
        assert not (state / "endpoints.json").exists()
        for name in ("ca/root-a.key", "ca/root-b.key", "ca/issuing.key", "server.key", "sandbox.sqlite3"):
            assert stat.S_IMODE(os.stat(state / name).st_mode) == 0o600, name
        sb.start()
        sb.mgmt_post("/reset")
        assert sb.mgmt_get("/orders") == [] and sb.mgmt_get("/counts")["total"] == 0
        assert open(sb.roots).read() == roots, "reset keeps the CA"
    finally:
        sb.cleanup()


def test_tokens_from_env_and_flags(tmp_path):
    env = {"WOTRUS_SANDBOX_TOKENS": "tk_a, tk_b"}
    with SandboxProcess(token="tk_c", env=env) as sb:
        for tk, code in (("tk_a", 200), ("tk_b", 200), ("tk_c", 200), ("sandbox-token", 401)):
            r = requests.get(sb.api_url + "/v1/Order/X", headers={"WoTrusToken": tk}, verify=sb.roots, timeout=10)
            assert r.status_code == code, tk


def test_endpoints_json_is_the_line_printed_on_stdout(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "wotrus_sandbox", "--state-dir", str(tmp_path), "--port", "0",
                             "--mgmt-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert (tmp_path / "endpoints.json").read_text() == line
        assert info["pid"] == proc.pid and info["api_url"].startswith("https://127.0.0.1:")
        assert set(info) == {"api_url", "mgmt_url", "pid", "roots", "sm2_roots", "sub_apps"}
        assert pathlib.Path(info["sm2_roots"]).read_text().count("BEGIN CERTIFICATE") == 1
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "wotrus_sandbox"] + list(args), capture_output=True, text=True,
                          timeout=30)


def test_cli_refuses_non_loopback_and_bad_config(tmp_path):
    r = _cli("--state-dir", str(tmp_path), "--mgmt-host", "0.0.0.0")
    assert r.returncode == 2 and "loopback" in r.stderr
    r = _cli("--state-dir", str(tmp_path), "--host", "0.0.0.0")
    assert r.returncode == 2 and "--allow-non-loopback" in r.stderr
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"answer_casing": "v2"}))
    r = _cli("--state-dir", str(tmp_path), "--config", str(cfg))
    assert r.returncode == 2 and "answer_casing" in r.stderr
    r = _cli("--help")
    assert r.returncode == 0
    for word in ("--state-dir", "--token", "--config", "--delay", "--validity-minutes", "--cross-sign",
                 "--push-url", "--http-port", "commit_then_drop", "/faults", "endpoints.json"):
        assert word in r.stdout, word


def test_config_file_and_flags(tmp_path):
    cfg = {"answer_casing": "v109", "tokens": ["from-file"], "delays": {"pendingDCV": 30},
           "products": {"11111111-2222-3333-4444-555555555555": {"name": "Custom", "kind": "ssl",
                                                                 "path": ["pendingDCV", "issued"]}}}
    with SandboxProcess(config=cfg, token="from-flag", args=["--status-key", "Status", "--cross-sign"]) as sb:
        conf = sb.mgmt_get("/config")
        assert conf["answer_casing"] == "v109" and conf["status_key"] == "Status" and conf["cross_sign"] is True
        assert "tokens" not in conf
        assert "11111111-2222-3333-4444-555555555555" in conf["products"]
        assert protocol.PRODUCT_SSL_EXAMPLE in conf["products"]
        assert open(sb.roots).read().count("BEGIN CERTIFICATE") == 2
        c = Client(sb)
        j = c.post(protocol.PATH_CREATE, create_body(product="11111111-2222-3333-4444-555555555555"), token="from-file")
        assert j.json()["isSuccess"], j.text
        oid = j.json()["data"]["orderID"]
        assert c.order(oid)["data"]["Status"] == "pendingDCV"


def test_management_endpoints_listing(client, sb):
    idx = sb.mgmt_get("/")["endpoints"]
    for e in ("POST /reset", "GET /roots", "GET /intermediates", "GET /orders", "GET /orders/{id}",
              "POST /orders/{id}/state", "GET /idempotence", "GET /counts", "POST /faults", "GET /faults",
              "DELETE /faults", "GET /crl", "GET /status/{serial}", "GET /push-log", "GET /config", "POST /config",
              "GET /notifications"):
        assert e in idx, e
    counts = sb.mgmt_get("/counts")
    assert set(counts) >= {"POST /v1/Order/Create", "GET /v1/Order/{id}", "GET /v1/Certificate/RetrievePem",
                           "POST /v1/Order/Cancel", "POST /v1/Certificate/RevokeRequest",
                           "POST /v1/Certificate/ReissueRequest", "POST /v1/Notification/email", "total"}
    oid = client.create_ok(idem="view-1")
    o = sb.mgmt_get("/orders/" + oid)
    for k in ("id", "idempotence_id", "product_id", "status", "common_name", "hosts", "serial", "created", "month"):
        assert k in o, k
    r = requests.get(sb.mgmt_url + "/orders/nope", timeout=5)
    assert r.status_code == 404


def test_sub_apps_mounted_on_https_and_plain_http():
    import importlib.util
    if importlib.util.find_spec("wotrus_sandbox.sectigo") is None:
        import pytest
        pytest.skip("wotrus_sandbox.sectigo is not installed: nothing to mount")
    with SandboxProcess(http_port=True) as sb:
        assert sb.http_url and "/sectigo" in sb.info["sub_apps"]
        path = "/sectigo/products/!getPostPaymentStatus"
        r = requests.post(sb.http_url + path, data={"loginName": "x"}, timeout=10)
        assert r.status_code == 200 and str(r.json()["errorCode"]) == "-1", "plain HTTP answers -1"
        r = requests.post(sb.api_url + path, data={"loginName": "x"}, verify=sb.roots, timeout=10)
        assert r.status_code == 200 and str(r.json()["errorCode"]) != "-1", "no WoTrusToken needed there"
        assert sb.mgmt_get("/counts")["total"] == 0, "sub-app calls are not WoTrus calls"

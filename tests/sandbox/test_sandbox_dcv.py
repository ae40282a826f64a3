# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP domain control validation of backend: sectigo orders (dcv_mode http).

A small HTTP server on 127.0.0.1 plays the web host; the sandbox maps the
order's names to it (dcv_resolve) and fetches the validation file before the
order leaves pendingDCV. The expected file is built with the collection's own
code (plugins/module_utils/_sectigo/dcv.py) from the Sectigo status answer.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import sys
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from sandbox_helpers import SSL_DV, SSL_OV_SECTIGO, Client, make_csr  # noqa: E402
from wotrus_sandbox.__main__ import main as sandbox_main  # noqa: E402
from wotrus_sandbox.config import DEFAULT_PRODUCTS  # noqa: E402
from wotrus_sandbox.collection import protocol  # noqa: E402
from wotrus_sandbox.testing import SandboxProcess  # noqa: E402

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv  # noqa: E402

CN = "www.dcv.test"
SAN = "dcv.test"
STATUS_PATH = "/sectigo/products/!getPostPaymentStatus"
LOGIN = {"loginName": "sandbox", "loginPassword": "sandbox-password"}


class WebHost:
    """A plain-HTTP server on 127.0.0.1 serving files per (Host name, path), recording every request."""

    def __init__(self):
        self.files = {}
        self.requests = []
        self.lock = threading.Lock()
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                with host.lock:
                    host.requests.append((name, self.path, self.headers.get("Host")))
                    body = host.files.get((name, self.path))
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, name, path, body):
        with self.lock:
            self.files[(name, path)] = body

    def clear(self):
        with self.lock:
            self.files.clear()
            self.requests.clear()

    def seen(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def web():
    host = WebHost()
    yield host
    host.close()


@pytest.fixture(scope="module")
def dcv_sandbox(web):
    args = ["--dcv-mode", "http", "--dcv-resolve", "%s=127.0.0.1" % CN, "--dcv-resolve", "%s=127.0.0.1" % SAN,
            "--dcv-http-port", str(web.port), "--dcv-check-interval", "0.1", "--dcv-timeout", "1",
            "--tick-interval", "0.05"]
    with SandboxProcess(args=args, http_port=True) as sb:
        yield sb


@pytest.fixture
def sbx(dcv_sandbox, web):
    web.clear()
    dcv_sandbox.mgmt_post("/reset")
    dcv_sandbox.mgmt_post("/config", {
        "dcv_mode": "http", "dcv_resolve": {CN: "127.0.0.1", SAN: "127.0.0.1"}, "dcv_http_port": web.port,
        "delays": {"default": 0, "pendingSubmitOrderToCA": 0, "pendingDCV": 0, "pendingCAIssued": 0},
        "products": DEFAULT_PRODUCTS})
    return dcv_sandbox


def wait_for(predicate, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def mgmt_order(sb, oid):
    return sb.mgmt_get("/orders/" + oid)


def sectigo_status(sb, number):
    r = requests.post(sb.api_url + STATUS_PATH, data=dict(LOGIN, orderNumber=number), verify=sb.roots, timeout=10)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["errorCode"] == 0, doc
    return doc["data"]


def attempts_after(sb, oid, domain, n):
    """The order's DCV record once `domain` has had more than `n` attempts."""
    def check():
        o = mgmt_order(sb, oid)
        return o if o["dcv"][domain]["attempts"] > n else None
    return wait_for(check, "a DCV attempt on %s" % domain)


def create_sectigo_order(client, cn=CN, hosts=(SAN,)):
    csr = make_csr(cn, [cn] + list(hosts))
    oid = client.create_ok(product=SSL_OV_SECTIGO, cn=cn, hosts=hosts, csr=csr)
    der = x509.load_pem_x509_csr(csr.encode()).public_bytes(Encoding.DER)
    return oid, der


def test_http_dcv_issues_only_after_every_name_serves_the_file(sbx, web):
    client = Client(sbx)
    oid, der = create_sectigo_order(client)
    client.wait_status(oid, protocol.STATUS_PENDING_DCV, timeout=5)
    number = protocol.ci_get(client.order(oid)["data"], "orderNumber")
    assert number and str(number).isdigit()

    # The Sectigo status answer knows the order by its orderNumber, with the CSR's hashes.
    data = sectigo_status(sbx, number)
    # As Sectigo documents them, computed here (the sandbox and the collection share dcv.csr_hashes).
    md5, sha256 = hashlib.md5(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()
    assert (data["dcvStatus"]["MD5"], data["dcvStatus"]["SHA256"]) == (md5, sha256)
    assert [d["domainName"] for d in data["dcvStatus"]["domains"]] == [CN, SAN]
    assert all(d["dcvStatus"] != "Completed" for d in data["dcvStatus"]["domains"])
    # ... on the plain-HTTP copy of the sub-app too (it shares the state).
    seen_by_http = requests.get(sbx.http_url + "/sectigo/_manage/orders/%s" % number, timeout=10).json()
    assert seen_by_http["md5"] == md5 and seen_by_http["wotrus_order_id"] == oid

    values = dcv.domain_values(CN, *dcv.check_hashes(data["dcvStatus"]["MD5"], data["dcvStatus"]["SHA256"],
                                                     data["dcvStatus"].get("uniqueValue")))
    path, content = values["http_file_path"], values["http_file_content"]

    # 1. nothing served: 404 on both names, still pendingDCV
    o = attempts_after(sbx, oid, SAN, 0)
    assert o["status"] == protocol.STATUS_PENDING_DCV and o["dcv_mode"] == "http"
    for name in (CN, SAN):
        assert o["dcv"][name]["state"] == "failed"
        assert "HTTP 404" in o["dcv"][name]["detail"]
        assert o["dcv"][name]["url"] == "http://%s:%d%s" % (name, web.port, path)
        assert o["dcv"][name]["checked_at"]

    # 2. a wrong file: still pendingDCV
    web.serve(CN, path, "%s\ncomodoca.com\n" % sha256)
    o = wait_for(lambda: (lambda x: x if "does not match" in (x["dcv"][CN]["detail"] or "") else None)(
        mgmt_order(sbx, oid)), "the wrong file seen")
    assert o["dcv"][CN]["state"] == "failed" and o["status"] == protocol.STATUS_PENDING_DCV
    o = attempts_after(sbx, oid, CN, o["dcv"][CN]["attempts"])
    assert o["dcv"][CN]["state"] == "failed" and client.status(oid) == protocol.STATUS_PENDING_DCV

    # 3. the right file for one name only (trailing newline and spaces are fine): still pendingDCV
    web.serve(CN, path, content.replace("\n", "  \n") + "\n")
    o = wait_for(lambda: (lambda x: x if x["dcv"][CN]["state"] == "validated" else None)(mgmt_order(sbx, oid)),
                 "%s validated" % CN)
    o = attempts_after(sbx, oid, SAN, o["dcv"][SAN]["attempts"])
    assert o["status"] == protocol.STATUS_PENDING_DCV and o["dcv"][SAN]["state"] == "failed"
    domains = {d["domainName"]: d for d in sectigo_status(sbx, number)["dcvStatus"]["domains"]}
    assert domains[CN]["dcvStatus"] == "Completed" and domains[CN]["selectedMethod"] == "HTTP CSR Hash"
    assert domains[SAN]["dcvStatus"] != "Completed"

    # 4. every name serves it: pendingCAIssued -> issued
    web.serve(SAN, path, content)
    client.wait_status(oid, protocol.STATUS_ISSUED, timeout=5)
    assert client.retrieve(oid)["isSuccess"] is True
    o = mgmt_order(sbx, oid)
    assert {n: r["state"] for n, r in o["dcv"].items()} == {CN: "validated", SAN: "validated"}
    data = sectigo_status(sbx, number)
    assert data["dcvStatus"]["status"] == "Completed"
    assert all(d["dcvStatus"] == "Completed" for d in data["dcvStatus"]["domains"])

    # The web host was asked for the file by name (Host header), on the mapped address and port.
    hosts_seen = {(name, p) for name, p, _ in web.seen()}
    assert {(CN, path), (SAN, path)} <= hosts_seen
    assert all(h == "%s:%d" % (name, web.port) for name, _, h in web.seen())
    log = (sbx.state_dir / "sandbox.log").read_text(encoding="utf-8")
    assert "DCV order %s domain %s: GET http://%s:%d%s" % (oid, SAN, SAN, web.port, path) in log


def test_unmapped_name_is_not_looked_up_and_mode_switches_at_runtime(sbx, web):
    client = Client(sbx)
    oid, _der = create_sectigo_order(client, cn="other.dcv.test", hosts=())
    client.wait_status(oid, protocol.STATUS_PENDING_DCV, timeout=5)
    o = attempts_after(sbx, oid, "other.dcv.test", 0)
    assert o["dcv"]["other.dcv.test"]["state"] == "failed"
    assert "no dcv_resolve entry" in o["dcv"]["other.dcv.test"]["detail"]
    assert o["next_due"] is None and o["status"] == protocol.STATUS_PENDING_DCV

    # Per product: delay beats the global http; the order then moves on by time, names marked unchecked.
    r = sbx.mgmt_post("/config", {"products": {SSL_OV_SECTIGO: {"dcv_mode": "delay"}}})
    assert r["products"][SSL_OV_SECTIGO]["dcv_mode"] == "delay"
    client.wait_status(oid, protocol.STATUS_ISSUED, timeout=5)
    o = mgmt_order(sbx, oid)
    assert o["dcv"]["other.dcv.test"]["state"] == "validated"
    assert o["dcv"]["other.dcv.test"]["detail"].startswith("not checked")

    # Back to http (product null = the global mode); a new order waits again.
    sbx.mgmt_post("/config", {"products": {SSL_OV_SECTIGO: {"dcv_mode": None}}})
    oid2, _ = create_sectigo_order(client, cn="other.dcv.test", hosts=())
    client.wait_status(oid2, protocol.STATUS_PENDING_DCV, timeout=5)
    attempts_after(sbx, oid2, "other.dcv.test", 0)
    # The global switch to delay releases it; the switch back to http is reflected in the config.
    assert sbx.mgmt_post("/config", {"dcv_mode": "delay"})["dcv_mode"] == "delay"
    client.wait_status(oid2, protocol.STATUS_ISSUED, timeout=5)
    assert sbx.mgmt_post("/config", {"dcv_mode": "http"})["dcv_mode"] == "http"

    # A non-Sectigo product ignores dcv_mode and cannot take one.
    oid3 = client.create_ok(product=SSL_DV, cn="plain.dcv.test", hosts=())
    client.wait_status(oid3, protocol.STATUS_ISSUED, timeout=5)
    assert mgmt_order(sbx, oid3)["dcv"] == {}


def _post_config(sb, body):
    return requests.post(sb.mgmt_url + "/config", json=body, timeout=10)


def test_non_loopback_targets_are_refused(sbx, tmp_path, capsys):
    before = sbx.mgmt_get("/config")
    for addr in ("10.1.2.3", "192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "example.com"):
        r = _post_config(sbx, {"dcv_resolve": {"evil.test": addr}})
        assert r.status_code == 400, (addr, r.text)
        assert "dcv_resolve" in r.json()["error"]
    r = _post_config(sbx, {"dcv_resolve": {"evil.test": "192.0.2.1"}})
    assert "not a loopback address" in r.json()["error"]
    for body in ({"dcv_mode": "dns"}, {"dcv_http_port": 0}, {"dcv_timeout": 0},
                 {"products": {SSL_DV: {"dcv_mode": "http"}}}):
        assert _post_config(sbx, body).status_code == 400, body
    assert sbx.mgmt_get("/config") == before
    # other loopback addresses are fine (the test hosts live on 127.0.0.2...)
    r = _post_config(sbx, {"dcv_resolve": {"Host1.Example.Test.": "127.0.0.2", "v6.test": "::1"}})
    assert r.status_code == 200 and r.json()["dcv_resolve"] == {"host1.example.test": "127.0.0.2",
                                                                 "v6.test": "::1"}

    # The command line refuses it before starting anything (the configuration is checked first).
    with pytest.raises(SystemExit) as exc:
        sandbox_main(["--state-dir", str(tmp_path / "s"), "--dcv-resolve", "evil.test=192.0.2.1"])
    assert exc.value.code == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_literal_non_loopback_ip_name_is_never_fetched(sbx, web):
    # An IP name with no mapping is used as it is only when it is loopback.
    sbx.mgmt_post("/config", {"check_csr_names": True})
    client = Client(sbx)
    oid, _ = create_sectigo_order(client, cn="www.dcv.test", hosts=("192.0.2.7",))
    client.wait_status(oid, protocol.STATUS_PENDING_DCV, timeout=5)
    o = attempts_after(sbx, oid, "192.0.2.7", 0)
    assert o["dcv"]["192.0.2.7"]["state"] == "failed"
    assert o["dcv"]["192.0.2.7"]["detail"].startswith("refused: 192.0.2.7 is not a loopback address")


def test_unique_value_is_part_of_the_file(sbx, web):
    client = Client(sbx)
    oid, der = create_sectigo_order(client, cn=CN, hosts=())
    client.wait_status(oid, protocol.STATUS_PENDING_DCV, timeout=5)
    number = str(protocol.ci_get(client.order(oid)["data"], "orderNumber"))
    r = requests.post(sbx.http_url + "/sectigo/_manage/orders/" + number, json={"unique_value": "u1x2"}, timeout=10)
    assert r.status_code == 200, r.text
    status = sectigo_status(sbx, number)["dcvStatus"]
    assert status["uniqueValue"] == "u1x2"
    md5, sha256, unique = dcv.check_hashes(status["MD5"], status["SHA256"], status["uniqueValue"])
    values = dcv.domain_values(CN, md5, sha256, unique)
    assert values["http_file_content"].endswith("\nu1x2")
    # without the unique value the file is wrong
    web.serve(CN, values["http_file_path"], "%s\nsectigo.com\n" % sha256)
    o = wait_for(lambda: (lambda x: x if "does not match" in (x["dcv"][CN]["detail"] or "") else None)(
        mgmt_order(sbx, oid)), "the file without uniqueValue seen")
    assert o["status"] == protocol.STATUS_PENDING_DCV
    web.serve(CN, values["http_file_path"], values["http_file_content"])
    client.wait_status(oid, protocol.STATUS_ISSUED, timeout=5)

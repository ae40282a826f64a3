# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Orders moving by time, revoke, reissue, CRL, push, chains verified with openssl."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sandbox_helpers import (JPG_B64, PDF_B64, SM2, SSL_DV, SSL_OV_SECTIGO, create_body, make_csr, make_sm2_csr,
                             tamper)
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.testing import SandboxError


def test_states_move_by_time_per_product(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingSubmitOrderToCA": 0.3, "pendingDCV": 0.3, "pendingCAIssued": 0.3}})
    oid = client.create_ok(product=SSL_OV_SECTIGO)
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st = client.status(oid)
        if not seen or seen[-1] != st:
            seen.append(st)
        if st == protocol.STATUS_ISSUED:
            break
        time.sleep(0.03)
    assert seen == [protocol.STATUS_PENDING_SUBMIT, protocol.STATUS_PENDING_DCV, protocol.STATUS_PENDING_CA_ISSUED, protocol.STATUS_ISSUED]
    o = sb.mgmt_get("/orders/" + oid)
    assert o["issued_at"] - o["created"] >= 0.85


def test_per_product_path_and_delay_config(client, sb):
    sb.mgmt_post("/config", {"products": {SSL_DV: {"path": ["pendingAutoIssue", "rejected"],
                                                   "delays": {"pendingAutoIssue": 0.2}}}})
    try:
        oid = client.create_ok()
        assert client.status(oid) == protocol.STATUS_PENDING_AUTO_ISSUE
        client.wait_status(oid, protocol.STATUS_REJECTED)
        assert client.retrieve(oid)["isSuccess"] is False
    finally:
        sb.mgmt_post("/config", {"products": {SSL_DV: {"path": ["pendingAutoIssue", "issued"], "delays": {}}}})
    with pytest.raises(SandboxError):
        sb.mgmt_post("/config", {"products": {SSL_DV: {"path": ["issued", "pendingDCV"]}}})
    with pytest.raises(SandboxError):
        sb.mgmt_post("/config", {"delays": {"pendingDCV": -1}})


def test_ticker_advances_without_reads(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 0.2}})
    oid = client.create_ok()
    time.sleep(0.8)
    assert sb.mgmt_get("/counts")["GET /v1/Order/{id}"] == 0
    o = [o for o in sb.mgmt_get("/orders") if o["id"] == oid][0]
    assert o["status"] == protocol.STATUS_ISSUED and o["serial"]


def _issued(client, sb, **kw):
    oid = client.create_ok(**kw)
    client.wait_status(oid, protocol.STATUS_ISSUED)
    return oid


def test_revoke_then_crl_and_status(client, sb):
    sb.mgmt_post("/config", {"revoke_delay": 0.3})
    oid = _issued(client, sb)
    serial = sb.mgmt_get("/orders/" + oid)["serial"]
    assert sb.mgmt_get("/status/" + serial)["status"] == "good"
    body = {"orderId": oid, "reason": "私钥泄露", "fileType": ".jpg", "fileContent": JPG_B64}
    j = client.post(protocol.PATH_REVOKE, body).json()
    assert j["isSuccess"] and j["data"] == {"revokeStatus": "pendingAudit", "revoked": False}
    assert j["successMsg"] == "申请吊销成功"
    assert client.status(oid) == protocol.STATUS_PENDING_REVOKE
    j = client.post(protocol.PATH_REVOKE, body).json()
    assert j["isSuccess"] is False and "already pending revocation" in j["errorMsg"]
    client.wait_status(oid, protocol.STATUS_REVOKED)
    j = client.post(protocol.PATH_REVOKE, body).json()
    assert j["isSuccess"] is False and "already revoked" in j["errorMsg"]
    assert sb.mgmt_get("/status/" + serial)["status"] == "revoked"
    assert sb.mgmt_get("/status/0123abcd")["status"] == "unknown"
    crl = x509.load_pem_x509_crl(sb.mgmt_get("/crl").encode())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    issuing = x509.load_pem_x509_certificate(sb.mgmt_get("/intermediates").encode())
    assert crl.is_signature_valid(issuing.public_key())
    # the certificate is still retrievable, as a record
    assert client.retrieve(oid)["isSuccess"] is True


def test_revoke_refusals(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 60}})
    oid = client.create_ok()
    ok = {"orderId": oid, "reason": "r", "fileType": ".pdf", "fileContent": PDF_B64}
    j = client.post(protocol.PATH_REVOKE, ok).json()
    assert j["isSuccess"] is False and "only an issued certificate" in j["errorMsg"]
    for k in ("orderId", "reason", "fileType", "fileContent"):
        body = dict(ok)
        body.pop(k)
        j = client.post(protocol.PATH_REVOKE, body).json()
        assert j["isSuccess"] is False and k.lower() in j["errorMsg"].lower() and "required" in j["errorMsg"]
    j = client.post(protocol.PATH_REVOKE, dict(ok, fileType=".jpg")).json()
    assert "not a .jpg" in j["errorMsg"]
    assert client.status(oid) == protocol.STATUS_PENDING_AUTO_ISSUE


def test_reissue_plain_product(client, sb):
    cn = "re.example.com"
    oid = _issued(client, sb, cn=cn, hosts=())
    old_serial = sb.mgmt_get("/orders/" + oid)["serial"]
    body = {"orderID": oid, "csr": make_csr(cn, [cn], "rsa2048"), "reason": "私钥泄露", "idempotenceID": "re-1"}
    j = client.post(protocol.PATH_REISSUE, body).json()
    assert j["isSuccess"] and j["successMsg"] == "申请重新颁发成功"
    new = j["data"]["newOrderID"]
    assert new != oid
    assert client.post(protocol.PATH_REISSUE, body).json()["data"]["newOrderID"] == new, "same key, same request"
    assert client.status(oid) == protocol.SANDBOX_REISSUED_STATUS
    client.wait_status(new, protocol.STATUS_ISSUED)
    assert sb.mgmt_get("/status/" + old_serial)["status"] == "good", "not SM2/Sectigo: old cert stays valid"
    o = sb.mgmt_get("/orders/" + new)
    assert o["reissued_from"] == oid and o["common_name"] == cn
    j = client.post(protocol.PATH_REISSUE, dict(body, idempotenceID="re-2")).json()
    assert j["isSuccess"] is False and "only an issued order" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, dict(body, orderID=new, idempotenceID="re-1")).json()
    assert j["isSuccess"] is False and "different parameters" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, {"orderID": new, "csr": make_csr("other.example.com"), "reason": "x"}).json()
    assert j["isSuccess"] is False and "does not match" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, {"orderID": new, "csr": make_csr(cn), "reason": "x", "csR_Encrypt": "y"}).json()
    assert j["isSuccess"] is False and "sm2 products only" in j["errorMsg"].lower()
    j = client.post(protocol.PATH_REISSUE, {"orderID": new, "csr": make_csr(cn)}).json()
    assert j["isSuccess"] is False and "reason is required" in j["errorMsg"]
    # the old order's certificate can still be revoked by the caller
    j = client.post(protocol.PATH_REVOKE, {"orderId": oid, "reason": "r", "fileType": ".pdf", "fileContent": PDF_B64}).json()
    assert j["isSuccess"], j
    client.wait_status(oid, protocol.STATUS_REVOKED)
    assert sb.mgmt_get("/status/" + old_serial)["status"] == "revoked"


def test_reissue_sectigo_needs_proof_and_revokes_old(client, sb):
    cn = "ov.example.com"
    oid = _issued(client, sb, cn=cn, hosts=(), product=SSL_OV_SECTIGO)
    old_serial = sb.mgmt_get("/orders/" + oid)["serial"]
    body = {"orderID": oid, "csr": make_csr(cn), "reason": "key change"}
    j = client.post(protocol.PATH_REISSUE, body).json()
    assert j["isSuccess"] is False and "filetype is required" in j["errorMsg"].lower()
    j = client.post(protocol.PATH_REISSUE, dict(body, fileType=".pdf", fileContent=PDF_B64)).json()
    assert j["isSuccess"], j
    new = j["data"]["newOrderID"]
    client.wait_status(new, protocol.STATUS_ISSUED)
    assert sb.mgmt_get("/status/" + old_serial)["status"] == "revoked"
    crl = x509.load_pem_x509_crl(sb.mgmt_get("/crl").encode())
    assert crl.get_revoked_certificate_by_serial_number(int(old_serial, 16)) is not None


def test_reissue_sm2_needs_encrypt_csr_and_proof(client, sb):
    cn = "sm2re.example.com"
    body = create_body(cn=cn, hosts=(), product=SM2)
    body["orderInfoPost"].pop("csr_RSA")
    body["orderInfoPost"]["csr_Sign"] = make_sm2_csr(cn, [cn])[0]
    oid = client.post(protocol.PATH_CREATE, body).json()["data"]["orderId"]
    sb.mgmt_post("/orders/%s/state" % oid, {"status": "issued"})
    sign_csr, sign_key = make_sm2_csr(cn, [cn])
    enc_csr, enc_key = make_sm2_csr(cn, [cn])
    base = {"orderID": oid, "csr": sign_csr, "reason": "x", "fileType": ".pdf", "fileContent": PDF_B64}
    j = client.post(protocol.PATH_REISSUE, base).json()
    assert j["isSuccess"] is False and "csR_Encrypt is required" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, dict(base, csR_Encrypt=enc_csr, fileType=None, fileContent=None)).json()
    assert j["isSuccess"] is False and "filetype is required" in j["errorMsg"].lower()
    j = client.post(protocol.PATH_REISSUE, dict(base, csR_Encrypt=tamper(enc_csr))).json()
    assert j["isSuccess"] is False and "signature does not verify" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, dict(base, csR_Encrypt=make_csr(cn, [cn], kind="ec384"))).json()
    assert j["isSuccess"] is False and "must hold an SM2 key" in j["errorMsg"]
    j = client.post(protocol.PATH_REISSUE, dict(base, csR_Encrypt=enc_csr)).json()
    assert j["isSuccess"], j
    new = j["data"]["newOrderID"]
    sb.mgmt_post("/orders/%s/state" % new, {"status": "issued"})
    d = client.retrieve(new)["data"]
    from wotrus_sandbox.collection import sm2
    assert sm2.key_matches(d["pem_Sign"], sign_key) and sm2.key_matches(d["pem_Encrypt"], enc_key)
    for leaf in (d["pem_Sign"], d["pem_Encrypt"]):
        assert sm2.verify_chain(leaf, d["chains_Sign"][1:], open(sb.sm2_roots).read()) is None
    assert all(c["revoked_at"] for c in sb.mgmt_get("/orders/" + oid)["certificates"])


def test_force_state_and_unknown_statuses(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 60}})
    oid = client.create_ok()
    for st in (protocol.STATUS_PENDING_DCV, "someNewStatus", protocol.STATUS_CLOSED):
        sb.mgmt_post("/orders/%s/state" % oid, {"status": st})
        assert client.status(oid) == st
    sb.mgmt_post("/orders/%s/state" % oid, {"status": "issued"})
    assert client.retrieve(oid)["isSuccess"]
    sb.mgmt_post("/orders/%s/state" % oid, {"status": "revoked"})
    serial = sb.mgmt_get("/orders/" + oid)["serial"]
    assert sb.mgmt_get("/status/" + serial)["status"] == "revoked"


def test_validity_minutes_and_month_13(client, sb):
    sb.mgmt_post("/config", {"validity_minutes": 3})
    oid = _issued(client, sb)
    c = x509.load_pem_x509_certificate(client.retrieve(oid)["data"]["pem_RSA"].encode())
    life = (c.not_valid_after_utc - c.not_valid_before_utc).total_seconds()
    assert 170 <= life <= 215
    sb.mgmt_post("/config", {"validity_minutes": None})
    oid = _issued(client, sb, month=13)
    c = x509.load_pem_x509_certificate(client.retrieve(oid)["data"]["pem_RSA"].encode())
    assert 392 <= (c.not_valid_after_utc - c.not_valid_before_utc).days <= 398


def _subject(client, oid):
    cert = x509.load_pem_x509_certificate(client.retrieve(oid)["data"]["pem_RSA"].encode())
    return [(attr.oid.dotted_string, attr.value) for attr in cert.subject]


def test_dv_leaf_names_the_domain_only_ov_the_organisation(client, sb):
    org = {"orgName": "沃通测试有限公司", "countryCode": "cn", "state": "广东", "city": "深圳"}
    leaves = {}
    for product, cn in ((SSL_DV, "dv.example.com"), (SSL_OV_SECTIGO, "ov.example.com")):
        body = create_body(cn=cn, hosts=(), product=product)
        body["organizationPost"].update(org)
        oid = protocol.ci_get(client.post(protocol.PATH_CREATE, body).json()["data"], "orderId")
        client.wait_status(oid, protocol.STATUS_ISSUED)
        leaves[product] = _subject(client, oid)
    assert leaves[SSL_DV] == [("2.5.4.3", "dv.example.com")]
    assert leaves[SSL_OV_SECTIGO] == [("2.5.4.6", "CN"), ("2.5.4.8", "广东"), ("2.5.4.7", "深圳"),
                                      ("2.5.4.10", "沃通测试有限公司"), ("2.5.4.3", "ov.example.com")]


def _openssl_verify(tmp_path, roots, chain, leaf):
    (tmp_path / "chain.pem").write_text("".join(chain))
    (tmp_path / "leaf.pem").write_text(leaf)
    return subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", roots, "-untrusted",
                           str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem")],
                          capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
@pytest.mark.parametrize("cross", [False, True])
def test_issued_chain_verifies_with_openssl(client, sb, tmp_path, cross):
    sb.mgmt_post("/config", {"cross_sign": cross})
    roots_pem = open(sb.roots).read()
    assert roots_pem.count("BEGIN CERTIFICATE") == (2 if cross else 1)
    assert sb.mgmt_get("/roots") == roots_pem
    oid = _issued(client, sb, cn="verify.example.com", hosts=("api.verify.example.com",))
    d = client.retrieve(oid)["data"]
    chain = d["chains_RSA"]
    assert len(chain) == (3 if cross else 2)
    certs = [x509.load_pem_x509_certificate(c.encode()) for c in chain]
    assert certs[0].subject == certs[0].issuer
    if cross:
        # [root A, cross (B by A), intermediate under B]: order must come from signatures
        assert certs[1].issuer == certs[0].subject and certs[2].issuer == certs[1].subject
        assert certs[1].subject != certs[0].subject
    r = _openssl_verify(tmp_path, sb.roots, chain, d["pem_RSA"])
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr
    # and it does not verify against someone else's root
    other = tmp_path / "other.pem"
    other.write_text(chain[-1])
    r = subprocess.run(["openssl", "verify", "-CAfile", str(other), str(tmp_path / "leaf.pem")],
                       capture_output=True, text=True)
    assert r.returncode != 0
    if cross:
        # only root A trusted: the cross certificate is what makes the path
        (tmp_path / "a.pem").write_text(chain[0])
        r = _openssl_verify(tmp_path, str(tmp_path / "a.pem"), chain[1:], d["pem_RSA"])
        assert r.returncode == 0, r.stdout + r.stderr
        r = _openssl_verify(tmp_path, str(tmp_path / "a.pem"), chain[2:], d["pem_RSA"])
        assert r.returncode != 0


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_r2_self_signed_layout_verifies_with_openssl(client, sb, tmp_path):
    # cross_sign "r2-self-signed": [root B (self-signed), cross (B by A), intermediate under B],
    # the layout of a CA whose new root is also cross-signed by its old one; roots.pem holds A and B.
    sb.mgmt_post("/config", {"cross_sign": "r2-self-signed"})
    roots_pem = open(sb.roots).read()
    assert roots_pem.count("BEGIN CERTIFICATE") == 2
    assert sb.mgmt_get("/roots") == roots_pem
    oid = _issued(client, sb, cn="r2.example.com", hosts=())
    d = client.retrieve(oid)["data"]
    chain = d["chains_RSA"]
    certs = [x509.load_pem_x509_certificate(c.encode()) for c in chain]
    assert len(certs) == 3
    root_b, cross, inter = certs
    root_a, root_b_trusted = x509.load_pem_x509_certificates(roots_pem.encode())
    assert root_b.subject == root_b.issuer and root_b == root_b_trusted
    assert cross.subject == root_b.subject and cross.issuer != cross.subject
    assert cross.public_key() == root_b.public_key()
    assert inter.issuer == root_b.subject
    leaf = x509.load_pem_x509_certificate(d["pem_RSA"].encode())
    assert leaf.issuer == inter.subject
    # with every root trusted, the intermediate alone makes the path (to B)
    r = _openssl_verify(tmp_path, sb.roots, chain[2:], d["pem_RSA"])
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr
    # only B trusted: the same
    (tmp_path / "b.pem").write_text(chain[0])
    r = _openssl_verify(tmp_path, str(tmp_path / "b.pem"), chain[2:], d["pem_RSA"])
    assert r.returncode == 0, r.stdout + r.stderr
    # only A trusted: the cross certificate makes the path
    assert cross.issuer == root_a.subject
    (tmp_path / "a.pem").write_text(_pem(root_a))
    r = _openssl_verify(tmp_path, str(tmp_path / "a.pem"), chain[1:], d["pem_RSA"])
    assert r.returncode == 0, r.stdout + r.stderr
    r = _openssl_verify(tmp_path, str(tmp_path / "a.pem"), chain[2:], d["pem_RSA"])
    assert r.returncode != 0
    # the intermediates endpoint holds the cross certificate and the intermediate
    assert sb.mgmt_get("/intermediates") == chain[1] + chain[2]


def test_cross_sign_values(sb):
    with pytest.raises(SandboxError):
        sb.mgmt_post("/config", {"cross_sign": "r1"})
    with pytest.raises(SandboxError):
        sb.mgmt_post("/config", {"cross_sign": 1})
    assert sb.mgmt_post("/config", {"cross_sign": "r2-self-signed"})["cross_sign"] == "r2-self-signed"


def test_cross_sign_flag():
    from wotrus_sandbox.__main__ import build_parser, overrides_from
    def parse(args):
        return build_parser().parse_args(["--state-dir", "/nonexistent"] + args)
    assert overrides_from(parse(["--cross-sign"]))["cross_sign"] is True
    assert overrides_from(parse(["--cross-sign", "r2-self-signed"]))["cross_sign"] == "r2-self-signed"
    assert "cross_sign" not in overrides_from(parse([]))
    with pytest.raises(SystemExit):
        parse(["--cross-sign", "r1"])


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class _Receiver:
    def __init__(self, answers):
        self.answers = list(answers)
        self.got = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), raw))
                code = outer.answers.pop(0) if outer.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/push" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _wait(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_push_signed_retried_and_logged(client, sb):
    rx = _Receiver([500, 503, 200, 200])
    try:
        sb.mgmt_post("/config", {"push_url": rx.url, "push_retry_delay": 0.05, "push_secret": "s3cret",
                                 "push_header": "X-Sig"})
        oid = _issued(client, sb)
        assert _wait(lambda: len(rx.got) >= 3)
        time.sleep(0.3)
        assert len(rx.got) == 3, "stops at the first HTTP 200"
        for headers, raw in rx.got:
            assert protocol.verify_push_signature("s3cret", raw, headers["X-Sig"])
            assert json.loads(raw) == {"dataAction": "order", "orderId": oid, "isIssued": True, "isRevoked": False}
        client.post(protocol.PATH_REVOKE, {"orderId": oid, "reason": "r", "fileType": ".pdf", "fileContent": PDF_B64})
        assert _wait(lambda: len(rx.got) == 4)
        assert json.loads(rx.got[3][1])["isRevoked"] is True
        log = sb.mgmt_get("/push-log")
        assert [(e["event"], e["attempt"], e["http_status"], e["delivered"]) for e in log] == [
            ("issued", 1, 500, False), ("issued", 2, 503, False), ("issued", 3, 200, True),
            ("revoked", 1, 200, True)]
    finally:
        rx.close()


def test_push_gives_up_after_three_attempts(client, sb):
    rx = _Receiver([500] * 10)
    try:
        sb.mgmt_post("/config", {"push_url": rx.url, "push_retry_delay": 0.05, "answer_casing": "v109"})
        oid = _issued(client, sb)
        assert _wait(lambda: len(sb.mgmt_get("/push-log")) >= 3)
        time.sleep(0.3)
        assert len(rx.got) == 3
        assert json.loads(rx.got[0][1])["orderID"] == oid
        assert not any(e["delivered"] for e in sb.mgmt_get("/push-log"))
    finally:
        rx.close()

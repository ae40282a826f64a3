# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each WoTrus endpoint: answers, envelope, casing, and strict refusals."""

from __future__ import annotations

import copy
import subprocess

import pytest

from sandbox_helpers import (JPG_B64, ORG_DOC, PDF, PDF_B64, PERSONAL_DOC, SM2, SSL_DV, SSL_OV_SECTIGO, create_body,
                      key, make_csr, make_sm2_csr, tamper)
from wotrus_sandbox.collection import protocol

ENVELOPE = {"isSuccess", "errorMsg", "successMsg", "data", "page"}


def refused(client, body, fragment, path=protocol.PATH_CREATE):
    r = client.post(path, body)
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) == ENVELOPE
    assert j["isSuccess"] is False, j
    assert fragment.lower() in j["errorMsg"].lower(), j["errorMsg"]
    return j


# -- authentication ------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "", "wrong-token", "sandbox-token-but-longer"])
def test_401_empty_body_on_missing_or_wrong_token(client, sb, token):
    h = {"Content-Type": "application/json"}
    if token is not None:
        h["WoTrusToken"] = token
    for method, path in (("POST", protocol.PATH_CREATE), ("GET", "/v1/Order/X"), ("GET", protocol.PATH_RETRIEVE_PEM),
                         ("POST", protocol.PATH_CANCEL), ("POST", protocol.PATH_REVOKE), ("POST", protocol.PATH_REISSUE),
                         ("POST", protocol.PATH_NOTIFY)):
        r = client.s.request(method, sb.api_url + path, headers=h, data=b"{}", verify=sb.roots, timeout=10)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.content == b""
    assert sb.mgmt_get("/orders") == []
    counts = sb.mgmt_get("/counts")
    assert counts["total"] == 7 and counts["POST /v1/Order/Create"] == 1


def test_token_header_name_is_case_insensitive_and_value_exact(client, sb):
    body = create_body()
    r = client.s.post(sb.api_url + protocol.PATH_CREATE, json=body, verify=sb.roots,
                      headers={"wotrustoken": "sandbox-token", "requestid": "rid-1"})
    assert r.status_code == 200 and r.json()["isSuccess"] is True
    r = client.s.post(sb.api_url + protocol.PATH_CREATE, json=body, verify=sb.roots, headers={"WoTrusToken": "SANDBOX-TOKEN"})
    assert r.status_code == 401


def test_request_id_is_logged(client, sb):
    client.s.get(sb.api_url + "/v1/Order/NOPE", verify=sb.roots,
                 headers={"WoTrusToken": "sandbox-token", "RequestID": "find-me-42"})
    log = (sb.state_dir / "sandbox.log").read_text()
    assert "RequestID=find-me-42" in log


# -- create ----------------------------------------------------------------------

def test_create_answer_v106_and_v109_casing(client, sb):
    j = client.create()
    assert set(j) == ENVELOPE
    assert set(j["data"]) == {"orderId", "orderId_RSA"}
    assert j["page"] == {"total": 0, "limit": 0, "skip": 0}
    sb.mgmt_post("/config", {"answer_casing": "v109"})
    j = client.create()
    assert set(j["data"]) == {"orderID", "orderID_RSA"}
    assert j["data"]["orderID"] and j["data"]["orderID_RSA"] is None
    sb.mgmt_post("/config", {"rsa_order_id_field": "orderId_RSA"})
    j = client.create()
    assert j["data"]["orderID"] is None and j["data"]["orderID_RSA"]


def test_create_accepts_any_key_casing(client, sb):
    cn = "casing.example.com"
    body = {"OrderInfoPost": {"PRODUCTID": SSL_DV.lower(), "commonname": cn, "csR_RSA": make_csr(cn, [cn]),
                              "Month": "12", "IdempotenceId": "casing-1"},
            "ORGANIZATIONPOST": {"OrgName": "x", "BusinessCategory": "", "IDCardNO": "", "OtherName": None},
            "documentsPOST": []}
    r = client.post(protocol.PATH_CREATE, body)
    assert r.json()["isSuccess"] is True, r.text
    [o] = sb.mgmt_get("/orders")
    assert o["product_id"] == SSL_DV and o["month"] == 12 and o["idempotence_id"] == "casing-1"


def test_create_refuses_keys_that_collide_case_insensitively(client):
    r = client.s.post(client.sb.api_url + protocol.PATH_CREATE, verify=client.sb.roots, headers=client.sb.headers(),
                      data='{"orderInfoPost": {}, "orderinfopost": {}}')
    assert r.status_code == 400 and "twice" in r.json()["errorMsg"]


@pytest.mark.parametrize("mutate,fragment", [
    (lambda b: b["orderInfoPost"].update(month=11), "month 11"),
    (lambda b: b["orderInfoPost"].update(month=None), "month is required"),
    (lambda b: b["orderInfoPost"].update(month="twelve"), "integer"),
    (lambda b: b["orderInfoPost"].pop("productID"), "productid is required"),
    (lambda b: b["orderInfoPost"].update(productID="00000000-0000-0000-0000-000000000000"), "unknown productid"),
    (lambda b: b["orderInfoPost"].pop("commonName"), "commonname is required"),
    (lambda b: b["orderInfoPost"].pop("csr_RSA"), "csr_rsa is required"),
    (lambda b: b["orderInfoPost"].update(csr_RSA="hello"), "not a pem"),
    (lambda b: b["orderInfoPost"].update(csr_RSA=tamper(b["orderInfoPost"]["csr_RSA"])), "signature"),
    (lambda b: b["orderInfoPost"].update(hosts="example.com,evil.example.net"), "do not match"),
    (lambda b: b["orderInfoPost"].update(hosts=["example.com"]), "comma-separated"),
    (lambda b: b["orderInfoPost"].update(commonName="bad_name!"), "not a valid domain"),
    (lambda b: b["orderInfoPost"].update(csrRSA="x"), "unknown key"),
    (lambda b: b.update(extra=1), "unknown key"),
    (lambda b: b["organizationPost"].update(orgNmae="typo"), "unknown key"),
    (lambda b: b.pop("organizationPost"), "organizationpost is required"),
    (lambda b: b["organizationPost"].update(orgName=""), "orgname is required"),
    (lambda b: b["organizationPost"].update(businessCategory="Company"), "businesscategory"),
    (lambda b: b["organizationPost"].update(countryCode="CHN"), "two-letter"),
    (lambda b: b["organizationPost"].update(userEmail="not-an-email"), "e-mail"),
    (lambda b: b.update(documentsPost=[{"documentType": 4, "fileType": ".pdf", "fileContent": PDF_B64}]),
     "documenttype"),
    (lambda b: b.update(documentsPost=[{"documentType": 1, "fileType": ".png", "fileContent": PDF_B64}]),
     "filetype"),
    (lambda b: b.update(documentsPost=[{"documentType": 1, "fileType": ".pdf", "fileContent": "@@@"}]), "base64"),
    (lambda b: b.update(documentsPost=[{"documentType": 1, "fileType": ".pdf", "fileContent": JPG_B64}]),
     "not a .pdf"),
    (lambda b: b["orderInfoPost"].update(csr_Sign="x"), "sm2 products only"),
])
def test_create_strict_refusals(client, sb, mutate, fragment):
    body = create_body()
    mutate(body)
    refused(client, body, fragment)
    assert sb.mgmt_get("/orders") == [], "a refused create must not make an order"


def test_create_refuses_weak_or_unsupported_keys(client):
    cn = "k.example.com"
    refused(client, create_body(cn=cn, hosts=(), csr=make_csr(cn, [cn], "rsa1024")), "1024 bits")
    refused(client, create_body(cn=cn, hosts=(), csr=make_csr(cn, [cn], "ec521")), "secp521r1")
    for kind in ("rsa2048", "rsa4096", "ec384"):
        assert client.create(cn=cn, hosts=(), csr=make_csr(cn, [cn], kind))["isSuccess"], kind


def test_create_csr_without_san_but_matching_cn(client):
    cn = "nosan.example.com"
    assert client.create(cn=cn, hosts=(), csr=make_csr(cn))["isSuccess"]
    refused(client, create_body(cn=cn, hosts=("www.nosan.example.com",), csr=make_csr(cn)), "missing from the csr")


def test_knobs_relax_strictness(client, sb):
    body = create_body()
    body["orderInfoPost"]["someFutureKey"] = 1
    body["orderInfoPost"]["hosts"] = "other.example.org"
    body["documentsPost"] = [{"documentType": 2, "fileType": ".pdf", "fileContent": JPG_B64}]
    refused(client, copy.deepcopy(body), "unknown key")
    sb.mgmt_post("/config", {"accept_unknown_keys": True})
    refused(client, copy.deepcopy(body), "do not match")
    sb.mgmt_post("/config", {"check_csr_names": False})
    refused(client, copy.deepcopy(body), "not a .pdf")
    sb.mgmt_post("/config", {"check_file_magic": False})
    assert client.post(protocol.PATH_CREATE, body).json()["isSuccess"] is True


def test_create_with_documents_and_ip_san(client, sb):
    body = create_body(cn="10.1.2.3", hosts=("example.com",), product=SSL_OV_SECTIGO)
    body["documentsPost"] = [{"documentType": 2, "fileType": ".pdf", "fileContent": PDF_B64},
                             {"documentType": "1", "fileType": ".JPG", "fileContent": JPG_B64}]
    r = client.post(protocol.PATH_CREATE, body).json()
    assert r["isSuccess"], r
    oid = r["data"]["orderId"]
    data = client.order(oid)["data"]
    assert data["isUploadedPic"] is True and data["org"]["isUpload"] is True
    assert sb.mgmt_get("/orders/" + oid)["documents"] == [
        {"documenttype": 2, "filetype": ".pdf", "size": len(b"%PDF-1.4\n% sandbox test letter\n")},
        {"documenttype": 1, "filetype": ".jpg", "size": 20}]


def test_wrong_content_type_and_bad_json(client, sb):
    r = client.s.post(sb.api_url + protocol.PATH_CREATE, data="{}", verify=sb.roots,
                      headers={"WoTrusToken": "sandbox-token", "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["isSuccess"] is False
    r = client.s.post(sb.api_url + protocol.PATH_CREATE, data="{not json", verify=sb.roots, headers=sb.headers())
    assert r.status_code == 400 and "not valid JSON" in r.json()["errorMsg"]
    r = client.s.post(sb.api_url + protocol.PATH_CREATE, data="[1]", verify=sb.roots, headers=sb.headers())
    assert r.status_code == 400 and "object" in r.json()["errorMsg"]


# -- query ---------------------------------------------------------------------------

def test_order_query_shape(client, sb):
    oid = client.create_ok(month=25)
    j = client.order(oid.lower() + " ")  # ids are GUIDs: any case, stray spaces as in the seeds
    assert set(j) == ENVELOPE and j["page"] is None and j["isSuccess"] is True
    d = j["data"]
    for k in ("id", "productName", "productID", "cn", "sn", "org", "orderNumber", "duration", "createTime",
              "status", "isPay", "pendingLink"):
        assert k in d, k
    assert d["id"] == oid and d["duration"] == 25 and d["isPay"] == 1
    assert d["createTime"].endswith("+08:00")
    assert d["status"] in (protocol.STATUS_PENDING_AUTO_ISSUE, protocol.STATUS_ISSUED)
    page = client.s.get(d["pendingLink"], verify=sb.roots)
    assert page.status_code == 200 and oid in page.text
    sb.mgmt_post("/config", {"status_key": "Status", "answer_casing": "v109"})
    d = client.order(oid)["data"]
    assert "Status" in d and "status" not in d and d["isCSRSubmited"] is True


def test_order_query_unknown_order(client):
    j = client.order("6F9619FF-8B86-D011-B42D-00C04FC964FF")
    assert j["isSuccess"] is False and "not found" in j["errorMsg"] and j["data"] is None


def test_unpaid_orders_wait(client, sb):
    sb.mgmt_post("/config", {"unpaid": True})
    oid = client.create_ok()
    d = client.order(oid)["data"]
    assert d["isPay"] == 0 and d["status"] == protocol.STATUS_PENDING_AUTO_ISSUE
    j = client.retrieve(oid)
    assert j["isSuccess"] is False and "waiting for payment" in j["errorMsg"]
    sb.mgmt_post("/orders/%s/state" % oid, {"is_pay": 1})
    client.wait_status(oid, protocol.STATUS_ISSUED)


# -- retrieve ------------------------------------------------------------------------

def test_retrieve_before_issue_and_query_params(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 60}})
    oid = client.create_ok()
    j = client.retrieve(oid)
    assert j["isSuccess"] is False and "not issued yet" in j["errorMsg"] and "pendingAutoIssue" in j["errorMsg"]
    r = client.get(protocol.PATH_RETRIEVE_PEM, params={"ORDERID": oid})
    assert "not issued yet" in r.json()["errorMsg"]
    r = client.get(protocol.PATH_RETRIEVE_PEM, params={"orderID": oid, "format": "der"})
    assert "unknown query parameter" in r.json()["errorMsg"]
    r = client.get(protocol.PATH_RETRIEVE_PEM)
    assert "orderID is required" in r.json()["errorMsg"]


def test_retrieve_issued_rsa_ssl(client, sb):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
    cn = "rsa.example.com"
    oid = client.create_ok(cn=cn, hosts=("127.0.0.1",), csr=make_csr(cn, [cn, "127.0.0.1"], "rsa2048"))
    client.wait_status(oid, protocol.STATUS_ISSUED)
    j = client.retrieve(oid)
    assert j["isSuccess"] is True and j["page"] == {"total": 0, "limit": 0, "skip": 0}
    d = j["data"]
    assert d["pem_Sign"] is None and d["chains_Sign"] == []
    cert = x509.load_pem_x509_certificate(d["pem_RSA"].encode())
    assert cert.public_key().public_numbers() == key("rsa2048").public_key().public_numbers()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [cn]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 360 <= days <= 367
    assert len(d["chains_RSA"]) == 2
    root = x509.load_pem_x509_certificate(d["chains_RSA"][0].encode())
    assert root.subject == root.issuer, "chains start with the root"


@pytest.mark.parametrize("product", [PDF, ORG_DOC, PERSONAL_DOC])
def test_document_signing_products(client, sb, product):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
    cn = "沃通电子认证服务有限公司"
    refused(client, create_body(cn=cn, hosts=("x.example.com",), product=product, csr=make_csr(cn)), "hosts")
    refused(client, create_body(cn=cn, hosts=(), product=product, csr=make_csr("someone else")), "does not match")
    oid = client.create_ok(cn=cn, hosts=(), product=product, csr=make_csr(cn, kind="rsa3072"), month=24,
                           uKeyPassword="123456", uKeyShipAddress="深圳")
    assert sb.mgmt_get("/orders/" + oid)["path"] == [protocol.STATUS_PENDING, protocol.STATUS_ISSUED]
    client.wait_status(oid, protocol.STATUS_ISSUED)
    cert = x509.load_pem_x509_certificate(client.retrieve(oid)["data"]["pem_RSA"].encode())
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_encipherment
    eku = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert eku == [ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier("1.3.6.1.5.5.7.3.36")]
    assert ExtendedKeyUsageOID.SERVER_AUTH not in eku
    assert 725 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 733


def test_sm2_product_with_real_sm2_keys_and_bound_rsa(client, sb, tmp_path):
    from cryptography import x509
    from wotrus_sandbox.collection import sm2
    cn = "sm2.example.com"
    body = create_body(cn=cn, hosts=("www.sm2.example.com",), product=SM2)
    info = body["orderInfoPost"]
    sign_csr, sign_key = make_sm2_csr(cn, [cn, "www.sm2.example.com"])
    enc_csr, enc_key = make_sm2_csr(cn, [cn, "www.sm2.example.com"])
    info["csr_Sign"], info["csr_Encrypt"] = sign_csr, enc_csr
    # an ECDSA CSR is no stand-in any more
    j = refused(client, dict(body, orderInfoPost=dict(info, csr_Sign=make_csr(cn, [cn, "www.sm2.example.com"]))),
                "must hold an SM2 key")
    # a tampered SM2 CSR (signature byte flipped) and an SM2 CSR for other names are refused
    refused(client, dict(body, orderInfoPost=dict(info, csr_Sign=tamper(sign_csr))), "signature does not verify")
    refused(client, dict(body, orderInfoPost=dict(info, csr_Encrypt=make_sm2_csr(cn, [cn])[0])),
            "names do not match")
    # an SM2 CSR as csr_RSA of an SSL product is refused
    refused(client, create_body(cn=cn, hosts=(), csr=make_sm2_csr(cn, [cn])[0]), "carries an SM2 key")
    j = client.post(protocol.PATH_CREATE, body).json()
    assert j["isSuccess"], j
    sm2_id, rsa_id = j["data"]["orderId"], j["data"]["orderId_RSA"]
    assert sm2_id and rsa_id and sm2_id != rsa_id
    sb.mgmt_post("/orders/%s/state" % sm2_id, {"status": "issued"})
    d = client.retrieve(sm2_id)["data"]
    sign = x509.load_pem_x509_certificate(d["pem_Sign"].encode())
    enc = x509.load_pem_x509_certificate(d["pem_Encrypt"].encode())
    sign_ku = sign.extensions.get_extension_for_class(x509.KeyUsage).value
    enc_ku = enc.extensions.get_extension_for_class(x509.KeyUsage).value
    assert sign_ku.digital_signature and not sign_ku.key_agreement
    assert enc_ku.key_encipherment and enc_ku.key_agreement and not enc_ku.digital_signature
    assert sign.signature_algorithm_oid.dotted_string == sm2.SM2_WITH_SM3_OID
    assert d["pem_RSA"] is None
    # the seeds' order: root first, intermediate last; the root is the sandbox's SM2 root
    root = open(sb.sm2_roots).read()
    for field, leaf, key in (("Sign", d["pem_Sign"], sign_key), ("Encrypt", d["pem_Encrypt"], enc_key)):
        chain = d["chains_" + field]
        assert len(chain) == 2 and chain[0].strip() == root.strip()
        assert sm2.issued_by(leaf, chain[1]) and not sm2.issued_by(leaf, chain[0])
        assert sm2.key_matches(leaf, key)
        # openssl verify against the SM2 root (CAfile) with the chain as -untrusted
        (tmp_path / "leaf.pem").write_text(leaf)
        (tmp_path / "chain.pem").write_text("".join(chain[1:]))
        proc = subprocess.run(["openssl", "verify", "-CAfile", sb.sm2_roots, "-untrusted",
                               str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem")],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and ": OK" in proc.stdout, proc.stdout + proc.stderr
        # ... and not against the RSA/EC roots
        assert sm2.verify_chain(leaf, chain[1:], open(sb.roots).read().split("-----END CERTIFICATE-----")[0]
                                + "-----END CERTIFICATE-----\n") is not None
    assert not sm2.key_matches(d["pem_Sign"], enc_key)
    assert client.status(rsa_id) == protocol.STATUS_ISSUED
    rsa = client.retrieve(rsa_id)["data"]
    assert rsa["pem_RSA"] and rsa["pem_Sign"] is None
    assert sb.mgmt_get("/sm2-roots").strip() == root.strip()


def test_sm2_create_without_encrypt_csr_certifies_the_signing_key(client, sb):
    from wotrus_sandbox.collection import sm2
    cn = "sm2only.example.com"
    body = create_body(cn=cn, hosts=(), product=SM2)
    body["orderInfoPost"].pop("csr_RSA")
    body["orderInfoPost"]["csr_Sign"], key = make_sm2_csr(cn, [cn])
    j = client.post(protocol.PATH_CREATE, body).json()
    assert j["isSuccess"], j
    oid = j["data"]["orderId"]
    assert not j["data"]["orderId_RSA"]
    sb.mgmt_post("/orders/%s/state" % oid, {"status": "issued"})
    d = client.retrieve(oid)["data"]
    assert sm2.key_matches(d["pem_Sign"], key) and sm2.key_matches(d["pem_Encrypt"], key)


# -- cancel ---------------------------------------------------------------------------

def test_cancel(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 60}})
    oid = client.create_ok()
    j = client.post(protocol.PATH_CANCEL, {"orderID": oid, "reason": "域名填写错误"}).json()
    assert j["isSuccess"] and j["data"] == {"cancelResult": True, "cancelFailedReason": ""}
    assert client.status(oid) == protocol.STATUS_CLOSED
    j = client.post(protocol.PATH_CANCEL, {"OrderId": oid, "reason": "again"}).json()
    assert j["isSuccess"] and j["data"]["cancelResult"] is False and "关闭" in j["data"]["cancelFailedReason"]
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 0}})
    oid2 = client.create_ok()
    client.wait_status(oid2, protocol.STATUS_ISSUED)
    j = client.post(protocol.PATH_CANCEL, {"orderID": oid2, "reason": "x"}).json()
    assert j["isSuccess"] and set(j["data"]) == {"cancelResult", "cancelFailedReason"}
    assert j["data"]["cancelResult"] is False
    assert "证书已签发" in j["data"]["cancelFailedReason"]
    assert client.status(oid2) == protocol.STATUS_ISSUED
    for st in (protocol.STATUS_REVOKED, protocol.STATUS_PENDING_REVOKE):
        sb.mgmt_post("/orders/%s/state" % oid2, {"status": st})
        assert client.post(protocol.PATH_CANCEL, {"orderID": oid2}).json()["data"]["cancelResult"] is False
    refused(client, {"orderID": "6F9619FF-8B86-D011-B42D-00C04FC964FF"}, "not found", protocol.PATH_CANCEL)
    refused(client, {"reason": "x"}, "orderID is required", protocol.PATH_CANCEL)
    refused(client, {"orderID": oid, "why": "x"}, "unknown key", protocol.PATH_CANCEL)


# -- notification ------------------------------------------------------------------------

def test_notification(client, sb):
    sb.mgmt_post("/config", {"delays": {"pendingAutoIssue": 60}})
    oid = client.create_ok()
    j = client.post(protocol.PATH_NOTIFY, {"orderID": oid, "collectUrl": "https://console.example.com/x"}).json()
    assert j["isSuccess"] and j["data"] == {"sentResult": False}
    sb.mgmt_post("/orders/%s/state" % oid, {"status": "issued"})
    j = client.post(protocol.PATH_NOTIFY, {"orderID": oid, "collectUrl": "https://console.example.com/x"}).json()
    assert j["data"] == {"sentResult": True}
    refused(client, {"orderID": oid, "collectUrl": "ftp://x"}, "http(s) url", protocol.PATH_NOTIFY)
    refused(client, {"orderID": oid}, "collecturl is required", protocol.PATH_NOTIFY)
    log = sb.mgmt_get("/notifications")
    assert [(n["order_id"], n["sent"]) for n in log] == [(oid, False), (oid, True)]


def test_unknown_path_and_method(client, sb):
    assert client.get("/v1/Order/Create/extra").status_code == 404
    assert client.post("/v1/Order/" + "A" * 8, {}).status_code == 405
    assert client.get("/v1/Order/Create").json()["isSuccess"] is False

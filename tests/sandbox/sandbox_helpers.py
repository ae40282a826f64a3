# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the sandbox's own tests: CSRs, request bodies, a thin client."""

from __future__ import annotations

import base64
import functools
import ipaddress
import uuid

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from wotrus_sandbox.collection import protocol

SSL_DV = protocol.PRODUCT_SSL_EXAMPLE
SSL_OV_SECTIGO = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
SM2 = "E2B9C4A1-7D3F-4B8E-9C6A-5F1D2E3B4A7C"
PDF = protocol.PRODUCT_PDF_SIGNING
ORG_DOC = protocol.PRODUCT_ORG_DOCUMENT_SIGNING
PERSONAL_DOC = protocol.PRODUCT_PERSONAL_DOCUMENT_SIGNING

PDF_BYTES = b"%PDF-1.4\n% sandbox test letter\n"
JPG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 16
PDF_B64 = base64.b64encode(PDF_BYTES).decode()
JPG_B64 = base64.b64encode(JPG_BYTES).decode()


@functools.lru_cache(maxsize=None)
def key(kind="ec256"):
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ec521":
        return ec.generate_private_key(ec.SECP521R1())
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind[3:]))
    raise ValueError(kind)


def make_csr(cn, sans=(), kind="ec256", k=None):
    k = k or key(kind)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if sans:
        names = []
        for n in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                names.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr = builder.sign(k, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def make_sm2_csr(cn, sans=(), key_pem=None):
    """A real SM2-with-SM3 CSR made by the OpenSSL CLI (through the collection's _sm2); returns (csr, key)."""
    from wotrus_sandbox.collection import sm2
    key_pem = key_pem or sm2.generate_key()
    return sm2.make_csr(key_pem, cn, list(sans)).decode(), key_pem


def tamper(csr_pem):
    """Flip one byte of the signature: still parses, signature fails."""
    der = x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.DER)
    der = der[:-3] + bytes([der[-3] ^ 0x01]) + der[-2:]
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE REQUEST-----\n"


def org(**extra):
    o = {"orgName": "沃通测试有限公司", "businessCategory": "Private Organization", "countryCode": "CN",
         "userEmail": "ops@example.com", "orgPhone": "", "OtherName": None}
    o.update(extra)
    return o


def create_body(cn="www.example.com", hosts=("example.com",), product=SSL_DV, month=12, idem=None, csr=None,
                kind="ec256", **info_extra):
    info = {"productID": product, "commonName": cn, "month": month,
            "csr_RSA": csr if csr is not None else make_csr(cn, [cn] + list(hosts), kind),
            "idempotenceID": idem or ""}
    if hosts:
        info["hosts"] = ",".join(hosts)
    info.update(info_extra)
    return {"orderInfoPost": info, "organizationPost": org(), "documentsPost": []}


class Client:
    """A thin requests client for the sandbox API (no retries: tests see every answer)."""

    def __init__(self, sb):
        self.sb = sb
        self.s = requests.Session()
        self.s.verify = sb.roots

    def post(self, path, body, token=None, **kw):
        h = self.sb.headers(request_id=str(uuid.uuid4()))
        if token is not None:
            h["WoTrusToken"] = token
        kw.setdefault("verify", self.sb.roots)  # per request: REQUESTS_CA_BUNDLE beats Session.verify
        return self.s.post(self.sb.api_url + path, json=body, headers=h, **kw)

    def get(self, path, token=None, **kw):
        h = self.sb.headers(request_id=str(uuid.uuid4()))
        if token is not None:
            h["WoTrusToken"] = token
        kw.setdefault("verify", self.sb.roots)
        kw.setdefault("timeout", 30)
        return self.s.get(self.sb.api_url + path, headers=h, **kw)

    def create(self, **kw):
        r = self.post(protocol.PATH_CREATE, create_body(**kw))
        assert r.status_code == 200, r.text
        return r.json()

    def create_ok(self, **kw):
        j = self.create(**kw)
        assert j["isSuccess"] is True, j
        return protocol.ci_get(j["data"], "orderId") or protocol.ci_get(j["data"], "orderId_RSA")

    def order(self, oid):
        r = self.get("/v1/Order/" + oid)
        assert r.status_code == 200, r.text
        return r.json()

    def status(self, oid):
        j = self.order(oid)
        assert j["isSuccess"], j
        return protocol.ci_get(j["data"], "status")

    def retrieve(self, oid):
        r = self.get(protocol.PATH_RETRIEVE_PEM, params={"orderID": oid})
        assert r.status_code == 200, r.text
        return r.json()

    def wait_status(self, oid, want, timeout=10.0):
        import time
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.status(oid)
            if st == want:
                return st
            time.sleep(0.05)
        raise AssertionError("order %s: status %s, wanted %s" % (oid, st, want))

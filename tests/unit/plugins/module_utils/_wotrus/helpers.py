# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helpers: a scripted requests session, recorded answers, a small PKI."""

from __future__ import annotations

import datetime
import json
import os

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "wotrus")
TOKEN = "tk_SENTINEL_7c1d3a9e"


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def response(status=200, body=None, headers=None, raw=None, url="https://api.test/"):
    resp = requests.Response()
    resp.status_code = status
    resp.url = url
    resp.headers.update(headers or {})
    if raw is not None:
        resp._content = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    else:
        resp._content = json.dumps(body if body is not None else {}).encode("utf-8")
    return resp


def ok(data=None, **extra):
    env = {"isSuccess": True, "errorMsg": None, "successMsg": "ok", "data": data, "page": None}
    env.update(extra)
    return response(200, env)


class FakeSession:
    """Answers requests from a script: a list of responses or exceptions, or a
    callable(method, url, kwargs) -> response. Records every request."""

    def __init__(self, script):
        self.script = list(script) if isinstance(script, (list, tuple)) else script
        self.requests = []

    def request(self, method, url, **kwargs):
        self.requests.append(dict(method=method, url=url, **kwargs))
        if callable(self.script):
            item = self.script(method, url, kwargs)
        else:
            if not self.script:
                raise AssertionError("unexpected request %s %s" % (method, url))
            item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def client(script, **kwargs):
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
    session = FakeSession(script)
    sleeps = []
    logs = []
    kwargs.setdefault("retries", 4)
    c = WoTrusClient("https://api.test", kwargs.pop("token", TOKEN), session=session,
                     sleep=sleeps.append, log=logs.append, rand=lambda: 0.5, **kwargs)
    c.sleeps, c.logs, c.fake = sleeps, logs, session
    return c


# -- a small PKI ---------------------------------------------------------------
def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key():
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(subject, subject_key, issuer=None, issuer_key=None, ca=False, sans=None, days=90):
    issuer = issuer or subject
    issuer_key = issuer_key or subject_key
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def make_csr(k, cn="www.example.com", sans=("www.example.com", "example.com")):
    b = x509.CertificateSigningRequestBuilder().subject_name(_name(cn))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    return b.sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode("ascii")


class Pki:
    """old root O, root R (self-signed), cross X (R's key signed by O),
    intermediate I (signed by R), leaf L (signed by I)."""

    def __init__(self):
        self.old_key, self.root_key, self.int_key, self.leaf_key = key(), key(), key(), key()
        self.old_root = make_cert("Old Root", self.old_key, ca=True)
        self.root = make_cert("Test Root", self.root_key, ca=True)
        self.cross = make_cert("Test Root", self.root_key, "Old Root", self.old_key, ca=True)
        self.intermediate = make_cert("Test Intermediate", self.int_key, "Test Root", self.root_key, ca=True)
        self.leaf = make_cert("www.example.com", self.leaf_key, "Test Intermediate", self.int_key,
                              sans=["www.example.com", "example.com"])

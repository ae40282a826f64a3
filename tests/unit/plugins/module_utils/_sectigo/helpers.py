# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recorded answers and a fake transport for the Sectigo client tests."""

from __future__ import annotations

import copy
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ansible_collections.wotrus.pki.plugins.module_utils._http import HttpAnswer

from ..fake_session import FakeHttpSession

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
# The seed's SHA256 has 63 digits (cut in the text); a full one for tests that need valid hashes.
FULL_SHA256 = "549B164F1F97EC4095C3FEF212F6B86016FF66F7F9115FFEBB2AB796FF226A80"


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return json.load(handle)


def seed_answer(full_hash=True):
    document = copy.deepcopy(fixture("post_payment_status_seed.json"))
    if full_hash:
        document["data"]["dcvStatus"]["SHA256"] = FULL_SHA256
    return document


def json_answer(document, status=200, headers=None):
    return HttpAnswer(status, headers or {"Content-Type": "application/json"}, json.dumps(document).encode())


FakeTransport = FakeHttpSession


def make_csr(*names):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(Encoding.PEM).decode(), csr.public_bytes(Encoding.DER)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_sm2: SM2 keys, CSRs and signatures through the OpenSSL 3 CLI; _x509's SM2 chains and key
matching, and the modules' SM2 input checks, with real SM2 keys made here."""
from __future__ import annotations

import base64
import re
import subprocess

import pytest
from cryptography import x509

from ansible_collections.wotrus.pki.plugins.module_utils import _sm2, _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError

from ._wotrus.helpers import key, make_csr


def _tamper(pem):
    """Flip a byte of the signature: the CSR still parses, its signature fails."""
    body = re.sub(r"-----[^-]+-----|\s", "", pem.decode() if isinstance(pem, bytes) else pem)
    der = bytearray(base64.b64decode(body))
    der[-3] ^= 1
    return ("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode()
            + "-----END CERTIFICATE REQUEST-----\n")


def _openssl(tmp_path, *args):
    subprocess.run(["openssl"] + [str(a) for a in args], check=True, capture_output=True, cwd=str(tmp_path))


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """An SM2 root, its issuing CA, a look-alike issuing CA (same name, same key identifier, other key)
    and a leaf signed by the real one, all SM2-with-SM3."""
    d = tmp_path_factory.mktemp("sm2ca")
    ext = d / "ext.cnf"
    ext.write_text("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                   "subjectKeyIdentifier=hash\n[fake]\nbasicConstraints=critical,CA:TRUE\n"
                   "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=%s\n"
                   "[leaf]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:a.example\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid\n")
    for name in ("root", "int", "fake", "leaf"):
        (d / (name + ".key")).write_bytes(_sm2.generate_key())
    _openssl(d, "req", "-new", "-x509", "-sm3", "-key", "root.key", "-subj", "/CN=SM2 Root", "-days", "30",
             "-config", ext, "-extensions", "ca", "-out", "root.pem")
    _openssl(d, "req", "-new", "-sm3", "-key", "int.key", "-subj", "/CN=SM2 Issuing", "-out", "int.csr",
             "-config", ext)
    _openssl(d, "x509", "-req", "-sm3", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial",
             "2", "-days", "30", "-extfile", ext, "-extensions", "ca", "-out", "int.pem")
    ski = x509.load_pem_x509_certificate((d / "int.pem").read_bytes()).extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest
    ext.write_text(ext.read_text() % ":".join("%02X" % b for b in ski))
    _openssl(d, "req", "-new", "-sm3", "-key", "fake.key", "-subj", "/CN=SM2 Issuing", "-out", "fake.csr",
             "-config", ext)
    _openssl(d, "x509", "-req", "-sm3", "-in", "fake.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial",
             "3", "-days", "30", "-extfile", ext, "-extensions", "fake", "-out", "fake.pem")
    (d / "leaf.csr").write_bytes(_sm2.make_csr((d / "leaf.key").read_bytes(), "a.example"))
    _openssl(d, "x509", "-req", "-sm3", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-set_serial",
             "4", "-days", "30", "-extfile", ext, "-extensions", "leaf", "-out", "leaf.pem")
    names = ("root.pem", "int.pem", "fake.pem", "leaf.pem", "leaf.key", "leaf.csr", "int.key")
    return {n: (d / n).read_bytes() for n in names}


def test_openssl_here_does_sm2():
    assert _sm2.find_openssl()


def test_a_missing_openssl_is_named_with_what_to_install(tmp_path):
    with pytest.raises(_sm2.Sm2Error, match="install OpenSSL 3.0 or newer"):
        _sm2.find_openssl(str(tmp_path / "no-openssl"))
    fake = tmp_path / "openssl"
    fake.write_text("#!/bin/sh\necho 'OpenSSL 1.1.1w  11 Sep 2023'\n")
    fake.chmod(0o755)
    with pytest.raises(_sm2.Sm2Error, match=r"OpenSSL 1.1.1w .*cannot make SM2 keys"):
        _sm2.find_openssl(str(fake))


def test_key_and_csr(tmp_path):
    key_pem = _sm2.generate_key()
    assert key_pem.startswith(b"-----BEGIN PRIVATE " + b"KEY-----") and _sm2.is_sm2(key_pem)
    csr = _sm2.make_csr(key_pem, "sm2.example.com", ["www.sm2.example.com", "192.0.2.7", "sm2.example.com"])
    assert _sm2.is_sm2(csr) and _sm2.csr_signature_ok(csr)
    obj = x509.load_pem_x509_csr(csr)
    assert obj.signature_algorithm_oid.dotted_string == _sm2.SM2_WITH_SM3_OID
    san = obj.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["sm2.example.com", "www.sm2.example.com"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.7"]
    assert _sm2.key_matches(csr, key_pem) and not _sm2.key_matches(csr, _sm2.generate_key())
    # openssl itself agrees with the signature check
    (tmp_path / "r.csr").write_bytes(csr)
    out = subprocess.run(["openssl", "req", "-in", str(tmp_path / "r.csr"), "-verify", "-noout"],
                         capture_output=True, text=True, check=True)
    assert "verify OK" in out.stdout + out.stderr


def test_a_tampered_csr_fails_and_bad_names_are_refused():
    csr = _sm2.make_csr(_sm2.generate_key(), "a.example")
    assert not _sm2.csr_signature_ok(_tamper(csr))
    assert not _sm2.csr_signature_ok(b"not a csr")
    for bad in ("a b.example", "a/b", "x,DNS:evil.example", "-rf"):
        with pytest.raises(ValueError):
            _sm2.make_csr(_sm2.generate_key(), "a.example", [bad])
    with pytest.raises(_sm2.Sm2Error, match="not an SM2 key"):
        _sm2.make_csr(b"-----BEGIN PRIVATE " + b"KEY-----\nAAAA\n-----END PRIVATE " + b"KEY-----\n", "a.example")


def test_signatures_and_public_keys(ca):
    assert _sm2.issued_by(ca["leaf.pem"], ca["int.pem"])
    assert not _sm2.issued_by(ca["leaf.pem"], ca["fake.pem"])  # same name and key identifier, other key
    assert not _sm2.issued_by(ca["leaf.pem"], ca["root.pem"])
    assert _sm2.issued_by(ca["int.pem"], ca["root.pem"])
    assert _sm2.key_matches(ca["leaf.pem"], ca["leaf.key"]) and _sm2.key_matches(ca["leaf.pem"], ca["leaf.csr"])
    assert not _sm2.key_matches(ca["leaf.pem"], ca["int.key"])
    assert _sm2.verify_chain(ca["leaf.pem"], [ca["int.pem"]], ca["root.pem"]) is None
    assert _sm2.verify_chain(ca["leaf.pem"], [ca["fake.pem"]], ca["root.pem"]) is not None


def test_x509_orders_an_sm2_chain_by_signatures_not_by_names(ca):
    # the look-alike comes first: names and key identifiers alone would take it
    candidates = [ca["root.pem"].decode(), ca["fake.pem"].decode(), ca["int.pem"].decode()]
    facts = _x509.describe(ca["leaf.pem"].decode(), candidates)
    assert facts["chain"] == ca["int.pem"].decode()
    assert facts["root"] == ca["root.pem"].decode() and facts["chain_complete"]
    leaf = x509.load_pem_x509_certificate(ca["leaf.pem"])
    fake = x509.load_pem_x509_certificate(ca["fake.pem"])
    assert not _x509.issued_by(leaf, fake)
    assert _x509.key_matches(ca["leaf.pem"], ca["leaf.key"]) and _x509.key_matches(leaf, ca["leaf.csr"])
    assert not _x509.key_matches(ca["leaf.pem"], ca["int.key"])


def test_module_inputs_check_sm2_csrs():
    csr = _sm2.make_csr(_sm2.generate_key(), "a.example").decode()
    parsed = inputs.load_csr(csr, "csr_sign")
    assert parsed.key_type == "sm2" and parsed.common_name == "a.example"
    assert parsed.public_key_der() == _sm2.public_key(csr)
    with pytest.raises(InputError, match="signature does not verify"):
        inputs.load_csr(_tamper(csr), "csr_sign")
    assert inputs.load_csr(make_csr(key(), "a.example", ["a.example"]), "csr").key_type == "ec"


def test_wotrus_order_and_reissue_refuse_the_wrong_kind_of_csr():
    from ansible_collections.wotrus.pki.plugins.modules import wotrus_order, wotrus_reissue
    sm2_csr = _sm2.make_csr(_sm2.generate_key(), "a.example").decode()
    ec_csr = make_csr(key(), "a.example", ["a.example"])
    order = dict.fromkeys(("csr", "csr_path", "common_name", "hosts", "csr_sign", "csr_sign_path",
                           "bind_rsa_product_id", "organization", "idempotence_id", "documents", "month",
                           "ukey_password", "ukey_ship_address"), None)
    order.update(product_id="E2B9C4A1-7D3F-4B8E-9C6A-5F1D2E3B4A7C", month=12,
                 organization={"org_name": "Example Ltd"})
    with pytest.raises(InputError, match="csr_sign: must be the SM2 signing CSR.*key is EC"):
        wotrus_order.create_request(dict(order, csr=ec_csr, csr_sign=ec_csr))
    with pytest.raises(InputError, match="csr: holds an SM2 key"):
        wotrus_order.create_request(dict(order, csr=sm2_csr, csr_sign=sm2_csr))
    with pytest.raises(InputError, match="csr_sign: the CSR's signature does not verify"):
        wotrus_order.create_request(dict(order, csr=ec_csr, csr_sign=_tamper(sm2_csr)))
    request = wotrus_order.create_request(dict(order, csr=ec_csr, csr_sign=sm2_csr))
    assert request.body["orderInfoPost"]["csr_Sign"] == sm2_csr.strip() + "\n"
    reissue = dict.fromkeys(("csr", "csr_path", "csr_encrypt", "csr_encrypt_path", "idempotence_id",
                             "proof_path", "record_path"), None)
    reissue.update(order_id="644A3E60-F1AA-4E25-821A-ACFBC462BC37", reason="key rotation")
    with pytest.raises(InputError, match="csr_encrypt: is required: csr is an SM2 CSR"):
        wotrus_reissue.reissue_request(dict(reissue, csr=sm2_csr))
    with pytest.raises(InputError, match="csr_encrypt: must be the SM2 encryption CSR.*key is EC"):
        wotrus_reissue.reissue_request(dict(reissue, csr=sm2_csr, csr_encrypt=ec_csr))
    with pytest.raises(InputError, match="csr: must be the SM2 signing CSR when csr_encrypt"):
        wotrus_reissue.reissue_request(dict(reissue, csr=ec_csr, csr_encrypt=sm2_csr))
    with pytest.raises(InputError, match="proof_path: is required with csr_encrypt"):
        wotrus_reissue.reissue_request(dict(reissue, csr=sm2_csr, csr_encrypt=sm2_csr))

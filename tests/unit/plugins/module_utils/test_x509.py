# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_x509: chains from signatures, PEM parsing, facts, serials, the host check.

Every test runs twice: with the features of the cryptography installed here and
with those of the releases that distributions ship (no load_pem_x509_certificates
before 39, no verify_directly_issued_by before 40, no not_valid_*_utc before 42),
so the code paths that run on Debian 12, RHEL 9 and Ubuntu 22.04 hosts run here
too. tests/role/test_role_python.py runs them with those releases for real.
"""
from __future__ import annotations

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from ansible_collections.wotrus.pki.plugins.module_utils import _x509

from ._wotrus.helpers import Pki, _name, key, make_csr, pem

# cryptography >= 42 warns on the naive not_valid_* that the older releases only have.
pytestmark = pytest.mark.filterwarnings("ignore:Properties that return a na")

FEATURES = ("HAS_LOAD_PEM_X509_CERTIFICATES", "HAS_VERIFY_DIRECTLY_ISSUED_BY", "HAS_UTC_VALIDITY")


@pytest.fixture(autouse=True, params=["installed", "distributions"])
def features(request, monkeypatch):
    """The cryptography features as installed, or as in cryptography 3.4.8 to 38."""
    if request.param == "distributions":
        for name in FEATURES:
            monkeypatch.setattr(_x509, name, False)
    return request.param


@pytest.fixture(scope="module")
def pki():
    return Pki()


def fps(certs):
    return [_x509.fingerprint(c) for c in certs]


def test_root_first_array_becomes_leaf_first_chain(pki):
    # The API's order: root first, intermediate last.
    c, root, unused = _x509.build_chain(pki.leaf, [pki.root, pki.intermediate])
    assert fps(c) == fps([pki.intermediate])
    assert _x509.fingerprint(root) == _x509.fingerprint(pki.root)
    assert unused == []


def test_cross_certificate_is_kept_and_old_root_left_out(pki):
    c, root, unused = _x509.build_chain(pki.leaf, [pki.old_root, pki.cross, pki.intermediate])
    assert fps(c) == fps([pki.intermediate, pki.cross])
    assert _x509.fingerprint(root) == _x509.fingerprint(pki.old_root)


def test_self_signed_root_in_array_is_reached_without_the_cross(pki):
    # [R2, cross (R2's key by R1), intermediate by R2]: R2 signs the intermediate itself,
    # so the cross certificate is not needed to reach a root of the answer.
    c, root, unused = _x509.build_chain(pki.leaf, [pki.root, pki.cross, pki.intermediate])
    assert fps(c) == fps([pki.intermediate])
    assert _x509.fingerprint(root) == _x509.fingerprint(pki.root)
    assert fps(unused) == fps([pki.cross])
    info = _x509.describe(pem(pki.leaf), [pem(pki.root), pem(pki.cross), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate)
    assert info["root"] == pem(pki.root)
    assert info["chain_complete"] is True
    assert info["unused_certificates"] == [pem(pki.cross)]


def test_both_roots_in_array_take_the_shortest_path(pki):
    c, root, unused = _x509.build_chain(pki.leaf, [pki.root, pki.old_root, pki.intermediate, pki.cross])
    assert fps(c) == fps([pki.intermediate])
    assert _x509.fingerprint(root) == _x509.fingerprint(pki.root)
    assert fps(unused) == fps([pki.old_root, pki.cross])


def test_cross_needed_to_reach_the_only_root(pki):
    # The sandbox's cross_sign: true layout: [R1, cross (R2 by R1), intermediate by R2].
    info = _x509.describe(pem(pki.leaf), [pem(pki.old_root), pem(pki.cross), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate) + pem(pki.cross)
    assert info["root"] == pem(pki.old_root)
    assert info["chain_complete"] is True
    assert info["unused_certificates"] == []


def test_chain_ending_in_a_cross_of_the_root_is_complete(pki):
    # What certificate_deploy checks: a chain [intermediate, cross] given with root R2 ends
    # at R2 (the cross holds R2's name and key); with R1 it ends there by signature.
    assert _x509.check_path(pki.leaf, [pki.intermediate, pki.cross], [pki.root]) is pki.cross
    assert _x509.check_path(pki.leaf, [pki.intermediate, pki.cross], [pki.old_root]) is pki.cross
    assert _x509.check_path(pki.leaf, [pki.intermediate], [pki.root]) is pki.intermediate
    with pytest.raises(_x509.ChainError, match="does not end at the given root"):
        _x509.check_path(pki.leaf, [pki.intermediate], [pki.old_root])
    with pytest.raises(_x509.ChainError, match="does not end at the given root"):
        _x509.check_path(pki.leaf, [pki.intermediate], [Pki().root])
    with pytest.raises(_x509.ChainError, match="certificate 1 .* is not signed by the next one"):
        _x509.check_path(pki.leaf, [pki.intermediate, pki.old_root], [pki.old_root])
    assert _x509.check_path(pki.leaf, [pki.intermediate]) is pki.intermediate


def test_no_root_reached_is_not_complete(pki):
    info = _x509.describe(pem(pki.leaf), [pem(Pki().root), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate)
    assert info["chain_complete"] is False


def test_any_array_order_gives_same_chain(pki):
    import itertools
    arrays = itertools.permutations([pki.old_root, pki.cross, pki.intermediate])
    results = set(tuple(fps(_x509.build_chain(pki.leaf, list(a))[0])) for a in arrays)
    assert len(results) == 1


def test_unrelated_certificates_are_unused(pki):
    other = Pki()
    c, root, unused = _x509.build_chain(pki.leaf, [other.intermediate, pki.intermediate, pki.root])
    assert fps(c) == fps([pki.intermediate])
    assert fps(unused) == fps([other.intermediate])


def test_describe(pki):
    info = _x509.describe(pem(pki.leaf), [pem(pki.root), pem(pki.intermediate)])
    assert info["certificate"] == pem(pki.leaf)
    assert info["chain"] == pem(pki.intermediate)
    assert info["fullchain"] == pem(pki.leaf) + pem(pki.intermediate)
    assert info["root"] == pem(pki.root)
    assert info["chain_complete"] is True
    assert info["subject_alt_names"] == ["www.example.com", "example.com"]
    assert info["serial_number"] == _x509.format_serial(pki.leaf.serial_number)
    assert info["fingerprint"].startswith("SHA256:")
    assert info["not_before"].endswith("Z")


def test_split_pem_accepts_one_string_with_many_blocks_and_escaped_newlines(pki):
    blob = pem(pki.root) + pem(pki.intermediate)
    assert len(_x509.split_pem(blob)) == 2
    assert len(_x509.split_pem(blob.replace("\n", "\\n"))) == 2
    with pytest.raises(_x509.ChainError):
        _x509.split_pem("---begin xxxxxx ---end---")


def test_key_matches(pki):
    from cryptography.hazmat.primitives import serialization
    kpem = pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    assert _x509.key_matches(pem(pki.leaf), kpem)
    assert _x509.key_matches(pem(pki.leaf), make_csr(pki.leaf_key))
    assert not _x509.key_matches(pem(pki.leaf), make_csr(key()))


# -- PEM ---------------------------------------------------------------------------
def test_load_certs_reads_every_block_in_order_and_ignores_text_around(pki):
    blob = "subject=www.example.com\n" + pem(pki.leaf) + "issuer=Test Intermediate\n" + pem(pki.intermediate)
    assert fps(_x509.load_certs(blob.encode())) == fps([pki.leaf, pki.intermediate])
    assert fps(_x509.load_pem_certificates(blob)) == fps([pki.leaf, pki.intermediate])
    assert _x509.load_certs(b"") == [] and _x509.load_certs(None) == []
    assert _x509.load_certs(b"no certificate here") == []
    assert _x509.load_certs(pem(pki.leaf).replace("MII", "*II", 1).encode()) == []
    with pytest.raises(ValueError):
        _x509.load_pem_certificates(b"no certificate here")


def test_split_pem_takes_bare_base64_der(pki):
    import base64
    der = base64.b64encode(pki.leaf.public_bytes(serialization.Encoding.DER)).decode()
    assert fps(_x509.split_pem([der, pem(pki.root)])) == fps([pki.leaf, pki.root])


# -- validity ------------------------------------------------------------------------
def test_validity_is_aware_utc(pki):
    # helpers.make_cert: from a day ago, for 90 days.
    start, end = _x509.not_before(pki.leaf), _x509.not_after(pki.leaf)
    assert start.utcoffset() == end.utcoffset() == datetime.timedelta(0)
    assert end - start == datetime.timedelta(days=91)
    ago = datetime.datetime.now(datetime.timezone.utc) - start
    assert datetime.timedelta(hours=23) < ago < datetime.timedelta(hours=25)


# -- serial numbers ----------------------------------------------------------------
def _with_serial(serial):
    k = key()
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name("serial")).issuer_name(_name("serial"))
            .public_key(k.public_key()).serial_number(serial)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(k, hashes.SHA256()))


@pytest.mark.parametrize("serial", [1, 0x7F, 0x80, 0xFF, 0x100, 0x59B, 0x59B1234ABCDEF, 0xAB01, 2 ** 158 + 0x59B,
                                    0x59B << 148])
def test_serial_is_shown_as_openssl_shows_it(serial, tmp_path):
    cert = _with_serial(serial)
    (tmp_path / "c.pem").write_text(pem(cert))
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(tmp_path / "c.pem")],
                         check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert out.strip() == "serial=" + _x509.serial_hex(cert)
    assert _x509.cert_facts(cert)["serial_number"] == _x509.serial_hex(cert)


def test_serial_keeps_its_leading_zero():
    assert _x509.format_serial(0x59B) == "059B"
    assert _x509.format_serial(0) == "00"


def test_serials_of_records_in_the_old_format_compare_equal():
    # Records written before serials were shown as openssl does hold "59B" (no leading zero).
    assert _x509.same_serial("59B", "059B")
    assert _x509.same_serial("059b", "05:9B")
    assert _x509.same_serial("0", "00")
    assert not _x509.same_serial("59B", "59C")
    assert not _x509.same_serial("59B", "59B0")
    assert not _x509.same_serial(None, "00") and not _x509.same_serial("", "")


# -- signatures over each key type ---------------------------------------------------
def _ca_and_leaf(kind):
    """(ca, impostor with the same name and another key, leaf signed by ca)."""
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    make = {
        "rsa-sha256": (lambda: rsa.generate_private_key(65537, 2048), hashes.SHA256(), None),
        "rsa-sha384": (lambda: rsa.generate_private_key(65537, 2048), hashes.SHA384(), None),
        "rsa-pss": (lambda: rsa.generate_private_key(65537, 2048), hashes.SHA256(), pss),
        "ecdsa": (key, hashes.SHA256(), None),
        "ed25519": (ed25519.Ed25519PrivateKey.generate, None, None),
    }
    new_key, hash_alg, rsa_padding = make[kind]
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, subject_key, issuer, issuer_key):
        b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
             .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False))
        if rsa_padding is not None:
            try:
                return b.sign(issuer_key, hash_alg, rsa_padding=rsa_padding)
            except TypeError:
                pytest.skip("cryptography %s cannot make RSA-PSS certificates (41 can)" % _x509.CRYPTOGRAPHY_VERSION)
        return b.sign(issuer_key, hash_alg)

    ca_key, impostor_key, leaf_key = new_key(), new_key(), new_key()
    return (cert("CA", ca_key, "CA", ca_key), cert("CA", impostor_key, "CA", impostor_key),
            cert("leaf", leaf_key, "CA", ca_key))


@pytest.mark.parametrize("kind", ["rsa-sha256", "rsa-sha384", "rsa-pss", "ecdsa", "ed25519"])
def test_signature_is_verified_with_the_issuer_key(kind):
    ca, impostor, leaf = _ca_and_leaf(kind)
    assert _x509.issued_by(leaf, ca)
    assert not _x509.issued_by(leaf, impostor)
    assert _x509.is_self_signed(ca)
    assert _x509.check_path(leaf, [], [ca]) is leaf
    with pytest.raises(_x509.ChainError):
        _x509.check_path(leaf, [], [impostor])


# -- keys --------------------------------------------------------------------------------
def test_private_key_spki(pki, tmp_path):
    path = tmp_path / "k.pem"
    path.write_bytes(pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    assert _x509.private_key_spki(str(path)) == _x509.spki(pki.leaf)
    assert _x509.private_key_spki(str(tmp_path / "missing")) is None
    path.write_bytes(pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.BestAvailableEncryption(b"secret")))
    assert _x509.private_key_spki(str(path)) is None


def test_cert_names(pki):
    assert _x509.cert_names(pki.leaf) == ("www.example.com", ["example.com", "www.example.com"])


# -- the host's Python and cryptography ------------------------------------------------
INSTALL_HINTS = ("apt install python3-cryptography", "dnf install python3-cryptography",
                 "-m pip install 'cryptography>=3.4.8'")


def test_this_python_and_cryptography_are_enough():
    assert _x509.host_requirements_problem() is None


def test_missing_cryptography_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_VERSION", None)
    msg = _x509.host_requirements_problem()
    assert "cryptography (>= 3.4.8) is not installed" in msg
    for hint in INSTALL_HINTS:
        assert hint in msg


@pytest.mark.parametrize("version, refused", [("3.3.2", True), ("2.8", True), ("3.4.7", True), ("3.4.8", False),
                                              ("36.0.1", False), ("38.0.4", False), ("44.0.0rc1", False)])
def test_cryptography_below_the_minimum_is_refused(monkeypatch, version, refused):
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_VERSION", version)
    msg = _x509.host_requirements_problem()
    if not refused:
        assert msg is None
        return
    assert "cryptography %s" % version in msg and "need 3.4.8 or newer" in msg
    for hint in INSTALL_HINTS:
        assert hint in msg


def test_python_below_the_minimum_is_refused(monkeypatch):
    monkeypatch.setattr(_x509, "MINIMUM_PYTHON", (99, 1))
    assert "need Python 99.1 or newer" in _x509.host_requirements_problem()


def test_cryptography_that_does_not_load_is_reported(monkeypatch):
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_IMPORT_ERROR", "Traceback...\nImportError: libssl.so.1.1: not found\n")
    msg = _x509.host_requirements_problem()
    assert "does not load (ImportError: libssl.so.1.1: not found)" in msg


# -- other encodings ------------------------------------------------------------
def _leaf_key_pem(pki):
    return pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def test_der_and_combined(pki):
    assert x509.load_der_x509_certificate(_x509.to_der(pki.leaf)) == pki.leaf
    combined = _x509.combined_pem(_leaf_key_pem(pki).rstrip(b"\n"), pki.leaf, [pki.intermediate])
    assert combined.startswith(_leaf_key_pem(pki)) and combined.count(b"BEGIN CERTIFICATE") == 2
    assert _x509.load_certs(combined) == [pki.leaf, pki.intermediate]


@pytest.mark.skipif(not _x509.HAS_PKCS12_ENCRYPTION_BUILDER, reason="PKCS#12 output needs cryptography 38")
@pytest.mark.parametrize("encryption", ["modern", "legacy"])
def test_pkcs12_round_trip_and_reuse(pki, encryption):
    from cryptography.hazmat.primitives.serialization import pkcs12
    data = _x509.pkcs12_bytes(_leaf_key_pem(pki), pki.leaf, [pki.intermediate], "pw", encryption, "site")
    assert _x509.pkcs12_encryption_of(data) == encryption
    held = pkcs12.load_pkcs12(data, b"pw")
    assert held.cert.certificate == pki.leaf and held.cert.friendly_name == b"site"
    assert [c.certificate for c in held.additional_certs] == [pki.intermediate]
    # Made again: random salts, other bytes; with the file in place as ``existing``: the same bytes.
    again = _x509.pkcs12_bytes(_leaf_key_pem(pki), pki.leaf, [pki.intermediate], "pw", encryption, "site")
    assert again != data
    assert _x509.pkcs12_bytes(_leaf_key_pem(pki), pki.leaf, [pki.intermediate], "pw", encryption, "site",
                              existing=data) == data
    # Anything different (password, name, chain, encryption): made anew.
    other = "legacy" if encryption == "modern" else "modern"
    for args in (("pw2", encryption, "site"), ("pw", encryption, "www"), ("pw", other, "site")):
        assert _x509.pkcs12_bytes(_leaf_key_pem(pki), pki.leaf, [pki.intermediate], *args, existing=data) != data
    assert _x509.pkcs12_bytes(_leaf_key_pem(pki), pki.leaf, [], "pw", encryption, "site", existing=data) != data


def test_pkcs12_problem_names_the_option(monkeypatch):
    monkeypatch.setattr(_x509, "HAS_PKCS12_ENCRYPTION_BUILDER", True)
    assert _x509.pkcs12_problem() is None
    monkeypatch.setattr(_x509, "HAS_PKCS12_ENCRYPTION_BUILDER", False)
    assert _x509.pkcs12_problem("certificate_pkcs12_encryption").startswith("certificate_pkcs12_encryption: ")

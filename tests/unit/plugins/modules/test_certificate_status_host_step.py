# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_status's host step: where something is due, the same module run makes the missing
directories, the staged key (0600 from its creation) and the CSR; check mode makes nothing; a staged key of
another type or size is made anew; a repeated run keeps the same CSR."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.wotrus.pki.plugins.module_utils import _files, _x509
from ansible_collections.wotrus.pki.plugins.modules import certificate_status


def run(tmp_path, capsys, sub="etc/ssl/www", **extra):
    d = tmp_path / sub
    args = dict(name="www", cert_path=str(d / "www.crt"), key_path=str(d / "www.key"),
                record_path=str(d / "www.crt.wotrus.json"), staged_key_path=str(d / "www.key.pending"),
                common_name="www.example.com", subject_alt_names=["www.example.com", "example.com"],
                csr_subject_alt_names=["DNS:www.example.com", "DNS:example.com"],
                product_id="30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D")
    args.update(extra)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            certificate_status.main()
    return json.loads(capsys.readouterr().out), d


def test_a_new_certificate_gets_directories_key_and_csr_in_the_same_run(tmp_path, capsys):
    result, d = run(tmp_path, capsys)
    assert result["due"] == "new" and result["changed"] is True, result
    assert result["made_dirs"] == [str(tmp_path / "etc"), str(tmp_path / "etc/ssl"), str(d)]
    assert all(stat.S_IMODE(os.stat(x).st_mode) == 0o755 for x in result["made_dirs"])
    key_path, csr_path = d / "www.key.pending", d / "www.key.pending.csr"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in json.dumps(result)
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert result["csr"] == csr_path.read_text()
    # What a user checks with openssl: the CSR verifies, is for the staged key and holds the names.
    out = subprocess.run(["openssl", "req", "-in", str(csr_path), "-noout", "-verify", "-text"],
                         capture_output=True, text=True, check=True)
    assert "verify OK" in out.stdout + out.stderr
    assert "DNS:www.example.com, DNS:example.com" in out.stdout and "CN = www.example.com" in out.stdout
    csr = x509.load_pem_x509_csr(csr_path.read_bytes())
    assert _x509.spki(csr) == _x509.spki(key)

    # Run again (an order not placed yet, or a resumed run): the same key and the same CSR, nothing written.
    again, _d = run(tmp_path, capsys)
    assert again["csr"] == result["csr"] and again["made"] == [] and again["changed"] is False
    assert serialization.load_pem_private_key(key_path.read_bytes(), None).private_numbers() == key.private_numbers()


def test_check_mode_makes_nothing(tmp_path, capsys):
    result, d = run(tmp_path, capsys, _ansible_check_mode=True)
    assert result["due"] == "new" and result["changed"] is True and result["csr"] is None
    assert not (tmp_path / "etc").exists()
    d.mkdir(parents=True)
    result, d = run(tmp_path, capsys, _ansible_check_mode=True)
    assert result["changed"] is True and result["csr"] is None and list(d.iterdir()) == []


def test_a_staged_key_of_another_type_or_size_is_made_anew(tmp_path, capsys):
    result, d = run(tmp_path, capsys, key_type="ecdsa", curve="secp256r1")
    key_path = d / "www.key.pending"
    first = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(first, ec.EllipticCurvePrivateKey) and first.curve.name == "secp256r1"
    result, d = run(tmp_path, capsys, key_type="ecdsa", curve="secp384r1")
    second = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert second.curve.name == "secp384r1" and result["key_made"] is True
    result, d = run(tmp_path, capsys, key_type="rsa", key_size=3072)
    third = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(third, rsa.RSAPrivateKey) and third.key_size == 3072
    # Its CSR follows the new key.
    csr = x509.load_pem_x509_csr((d / "www.key.pending.csr").read_bytes())
    assert _x509.spki(csr) == _x509.spki(third)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_a_loose_staged_key_gets_mode_0600_again(tmp_path, capsys):
    _result, d = run(tmp_path, capsys)
    key_path = d / "www.key.pending"
    before = key_path.read_bytes()
    key_path.chmod(0o644)
    result, d = run(tmp_path, capsys)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600 and key_path.read_bytes() == before
    assert result["changed"] is True


def test_a_csr_for_other_names_is_made_anew(tmp_path, capsys):
    first, d = run(tmp_path, capsys)
    second, d = run(tmp_path, capsys, subject_alt_names=["www.example.com"], csr_subject_alt_names=["DNS:www.example.com"])
    assert second["csr"] != first["csr"]
    csr = x509.load_pem_x509_csr(second["csr"].encode())
    assert csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["www.example.com"]


@pytest.mark.parametrize("extra, words", [
    (dict(key_size=1024), "key_size: an RSA key must have at least 2048 bits"),
    (dict(key_type="ecdsa"), "curve: must be one of secp256r1, secp384r1"),
    (dict(owner="no-such-user-here"), "owner: there is no user"),
])
def test_a_weak_key_or_a_bad_owner_is_refused_before_a_key_is_written(tmp_path, capsys, extra, words):
    result, d = run(tmp_path, capsys, **extra)
    assert result["failed"] is True and words in result["msg"], result
    assert not (d / "www.key.pending").exists()


def test_nothing_due_makes_nothing(tmp_path, capsys, monkeypatch):
    from ansible_collections.wotrus.pki.plugins.module_utils import _role_status
    monkeypatch.setattr(_role_status, "compute_status", lambda p: dict(
        due="none", why="not due", new_key=False, staged_key_path=p["staged_key_path"],
        staged_csr_path=p["staged_key_path"] + ".csr", plan="not due"))
    result, d = run(tmp_path, capsys)
    assert result["changed"] is False and result["csr"] is None and not (tmp_path / "etc").exists()


def test_the_staged_key_is_created_0600_never_widened_after_its_data(tmp_path, monkeypatch):
    """The writer's open flags: the file is created exclusively with mode 0600, and no mode is set on it after
    the key is written (so it is never readable by others, not even for an instant)."""
    events = []
    real_open, real_fchmod, real_chmod = os.open, os.fchmod, os.chmod

    def spy_open(path, flags, mode=0o777, *a, **kw):
        if flags & os.O_CREAT:
            events.append(("create", str(path), flags, mode))
        return real_open(path, flags, mode, *a, **kw)

    def spy_fchmod(fd, mode):
        events.append(("fchmod", fd, mode))
        return real_fchmod(fd, mode)

    def spy_chmod(path, mode, *a, **kw):
        events.append(("chmod", str(path), mode))
        return real_chmod(path, mode, *a, **kw)

    written = []
    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fchmod", spy_fchmod)
    monkeypatch.setattr(os, "chmod", spy_chmod)
    real_fdopen = os.fdopen

    def spy_fdopen(fd, *a, **kw):
        handle = real_fdopen(fd, *a, **kw)
        real_write = handle.write

        def write(data):
            events.append(("write", fd))
            written.append(data)
            return real_write(data)
        handle.write = write
        return handle
    monkeypatch.setattr(os, "fdopen", spy_fdopen)
    key = _x509.generate_private_key("ecdsa", curve="secp256r1")
    path = tmp_path / "www.key.pending"
    _files.write_atomic(str(path), _x509.private_key_pem(key), _files.FileAttrs(mode=0o600))
    creates = [e for e in events if e[0] == "create"]
    assert len(creates) == 1 and creates[0][3] == 0o600 and creates[0][2] & os.O_EXCL, events
    write_at = [i for i, e in enumerate(events) if e[0] == "write"][0]
    assert not [e for e in events[write_at:] if e[0] in ("fchmod", "chmod")], events
    assert all(e[2] & 0o077 == 0 for e in events if e[0] == "fchmod"), events
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and b"PRIVATE KEY" in written[0]


def _sm2_pub(pem):
    return subprocess.run(["openssl", "pkey", "-pubout"], input=pem, capture_output=True, check=True).stdout


def test_sm2_signing_key_and_csr_made_with_openssl_and_kept(tmp_path, capsys):
    d = tmp_path / "etc/ssl/www"
    sm2 = dict(key_type="sm2", encrypt_cert_path=str(d / "www.enc.crt"), encrypt_key_path=str(d / "www.enc.key"))
    result, d = run(tmp_path, capsys, **sm2)
    assert result["due"] == "new" and result["changed"] is True, result
    key_path, csr_path = d / "www.key.pending", d / "www.key.pending.csr"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in json.dumps(result)
    # A new order sends the signing CSR only (Create takes csr_Sign): no encryption key yet.
    assert result["csr_encrypt"] is None and not (d / "www.enc.key.pending").exists()
    out = subprocess.run(["openssl", "req", "-in", str(csr_path), "-noout", "-verify", "-text", "-pubkey"],
                         capture_output=True, text=True, check=True)
    assert "verify OK" in out.stdout + out.stderr and "SM2" in out.stdout and "SM3" in out.stdout
    assert "DNS:www.example.com, DNS:example.com" in out.stdout and "CN = www.example.com" in out.stdout
    assert _sm2_pub(key_path.read_bytes()).decode() in out.stdout
    assert result["csr"] == csr_path.read_text()
    again, _d = run(tmp_path, capsys, **sm2)
    assert again["csr"] == result["csr"] and again["made"] == [] and again["changed"] is False

    # A staged CSR edited on the host (its signature no longer verifies) is made anew, for the same key.
    der = subprocess.run(["openssl", "req", "-in", str(csr_path), "-outform", "DER"], capture_output=True,
                         check=True).stdout
    bad = der[:-1] + bytes([der[-1] ^ 1])
    csr_path.write_bytes(subprocess.run(["openssl", "req", "-inform", "DER"], input=bad, capture_output=True,
                                        check=True).stdout)
    fixed, _d = run(tmp_path, capsys, **sm2)
    assert fixed["made"] == [str(csr_path)] and fixed["csr"] != result["csr"]
    check = subprocess.run(["openssl", "req", "-in", str(csr_path), "-noout", "-verify"], capture_output=True,
                           text=True, check=False)
    assert "verify OK" in check.stdout + check.stderr


def test_sm2_staged_key_of_another_type_is_made_anew(tmp_path, capsys):
    d = tmp_path / "etc/ssl/www"
    d.mkdir(parents=True)
    (d / "www.key.pending").write_bytes(_x509.private_key_pem(ec.generate_private_key(ec.SECP256R1())))
    result, d = run(tmp_path, capsys, key_type="sm2", encrypt_cert_path=str(d / "www.enc.crt"),
                    encrypt_key_path=str(d / "www.enc.key"))
    assert result["key_made"] is True and "no unencrypted SM2 private key" in result["key_why"]
    assert b"-----BEGIN PRIVATE " + b"KEY-----" in (d / "www.key.pending").read_bytes()
    assert "ASN1 OID: SM2" in subprocess.run(["openssl", "pkey", "-in", str(d / "www.key.pending"), "-noout",
                                              "-text"], capture_output=True, text=True, check=True).stdout

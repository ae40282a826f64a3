# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight of an SM2 item (key_type sm2): the encryption files' default paths, the SM2-only keys
refused on other key types, PKCS#12 refused, every problem naming the variable."""

from __future__ import annotations

from .test_certificate_preflight import check, www

PW = dict(certificate_pkcs12_password_set=True)


def test_an_sm2_item_gets_its_encryption_files_beside_the_signing_ones():
    items, errors = check([www(key_type="sm2", key_path="/etc/ssl/private/www.key")])
    assert errors == []
    it = items[0]
    assert it["key_type"] == "sm2" and it["key_size"] == 256 and it["curve"] is None
    assert it["encrypt_cert_path"] == "/etc/ssl/wotrus/www.enc.crt"
    assert it["encrypt_key_path"] == "/etc/ssl/private/www.enc.key"
    assert it["encrypt_chain_path"] == "/etc/ssl/wotrus/www.enc.chain.pem"
    assert it["encrypt_fullchain_path"] == "/etc/ssl/wotrus/www.enc.fullchain.pem"
    assert it["encrypt_staged_key_path"] == "/etc/ssl/private/www.enc.key.pending"


def test_an_sm2_item_sets_its_own_encryption_paths():
    items, errors = check([www(key_type="sm2", encrypt_cert_path="/srv/tls/enc.pem", encrypt_key_path="/srv/tls/enc.key")])
    assert errors == []
    assert items[0]["encrypt_cert_path"] == "/srv/tls/enc.pem" and items[0]["encrypt_key_path"] == "/srv/tls/enc.key"


def test_other_key_types_have_no_encryption_files():
    items, errors = check([www()])
    assert errors == [] and items[0]["encrypt_cert_path"] is None and items[0]["encrypt_staged_key_path"] is None


def test_sm2_problems_name_the_variable():
    _items, errors = check([www(encrypt_cert_path="/etc/ssl/wotrus/www.enc.crt")])
    assert any(e.startswith("certificate_list[0].encrypt_cert_path: is for an SM2 pair only") for e in errors), errors
    _items, errors = check([www(key_type="sm2", key_size=2048)])
    assert any(e.startswith("certificate_list[0].key_size: must be one of 256 for key_type sm2") for e in errors), errors
    _items, errors = check([www(key_type="sm2")], defaults=dict(outputs=["pkcs12"]), settings=PW)
    assert any(e.startswith("certificate_outputs: pkcs12 cannot hold an SM2 pair") for e in errors), errors
    _items, errors = check([www(key_type="sm2", encrypt_cert_path="/etc/ssl/wotrus/www.crt")])
    assert any(e.startswith("certificate_list[0]: cert_path, key_path") for e in errors), errors
    _items, errors = check([www(key_type="dsa")])
    assert any(e.startswith("certificate_list[0].key_type: must be rsa, ecdsa or sm2") for e in errors), errors


def test_an_sm2_reissue_needs_the_proof_file():
    _items, errors = check([www(key_type="sm2")], settings=dict(certificate_reissue=True))
    assert any(e.startswith("certificate_reissue_proof_path: is required to reissue an SM2 certificate (www")
               for e in errors), errors
    _items, errors = check([www()], settings=dict(certificate_reissue=True))
    assert not any(e.startswith("certificate_reissue_proof_path") for e in errors), errors

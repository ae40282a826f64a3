# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_role_status.compute_status for an SM2 pair (key_type sm2), on real SM2 certificates and keys
(OpenSSL 3): both certificates must be there and hold their keys; the signing certificate decides
renewal; a reissue asks for a new encryption key of its own, a Create does not."""

from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _sm2, _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records

from ..modules.test_certificate_deploy_sm2 import Sm2CA

PRODUCT = "E2B9C4A1-7D3F-4B8E-9C6A-5F1D2E3B4A7C"
CN = "sm2.example.com"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return Sm2CA(tmp_path_factory.mktemp("sm2ca"))


@pytest.fixture
def pair(tmp_path, ca):
    """A deployed SM2 pair: signing and encryption keys, their certificates (30 days), the record."""
    paths = dict(cert_path=tmp_path / "gm.crt", key_path=tmp_path / "gm.key", enc_cert=tmp_path / "gm.enc.crt",
                 enc_key=tmp_path / "gm.enc.key")
    sign, enc = _sm2.generate_key(), _sm2.generate_key()
    paths["key_path"].write_bytes(sign)
    paths["enc_key"].write_bytes(enc)
    paths["cert_path"].write_text(ca.leaf(sign, 21))
    paths["enc_cert"].write_text(ca.leaf(enc, 22))
    cert = _x509.load_certs(paths["cert_path"].read_bytes())[0]
    record_path = role_status.default_record_path(str(paths["cert_path"]))
    with open(record_path, "w") as f:
        f.write(records.dumps(dict(order_id="ORDER-1", deployed_order_id="ORDER-1", idempotence_id="idem-1",
                                   product_id=PRODUCT, status="issued", key="staged", month=12,
                                   deployed_serial=_x509.serial_hex(cert))))
    params = dict(name="gm", cert_path=str(paths["cert_path"]), key_path=str(paths["key_path"]),
                  record_path=record_path, staged_key_path=str(paths["key_path"]) + ".pending",
                  common_name=CN, subject_alt_names=[CN], product_id=PRODUCT, month=12, renew_before_days=5,
                  renew_before_percent=0, key_rotation="always", reissue=False, revoke=False, key_type="sm2",
                  encrypt_cert_path=str(paths["enc_cert"]), encrypt_key_path=str(paths["enc_key"]))
    return paths, params


def test_a_deployed_pair_is_not_due(pair):
    _paths, params = pair
    st = role_status.compute_status(params)
    assert st["due"] == role_status.DUE_NONE, st["why"]
    assert st["matches_key"] is True and st["encrypt_matches_key"] is True and st["names_match"] is True
    assert st["encrypt_new_key"] is False


def test_a_missing_or_foreign_encryption_certificate_makes_a_new_order_due(pair, ca):
    paths, params = pair
    paths["enc_cert"].write_text(ca.leaf(_sm2.generate_key(), 23))
    st = role_status.compute_status(params)
    assert st["due"] == role_status.DUE_NEW and "does not match the key at" in st["why"], st["why"]
    assert st["encrypt_matches_key"] is False and st["encrypt_new_key"] is False
    paths["enc_cert"].unlink()
    st = role_status.compute_status(params)
    assert st["due"] == role_status.DUE_NEW and "no SM2 encryption certificate" in st["why"], st["why"]


def test_renewal_by_the_signing_certificate_and_reissue_with_an_encryption_key(pair):
    _paths, params = pair
    st = role_status.compute_status(dict(params, renew_before_days=40))
    assert st["due"] == role_status.DUE_RENEW and st["new_key"] is True and st["encrypt_new_key"] is False
    st = role_status.compute_status(dict(params, reissue=True))
    assert st["due"] == role_status.DUE_REISSUE and st["order_id"] == "ORDER-1"
    assert st["new_key"] is True and st["encrypt_new_key"] is True
    assert st["encrypt_staged_key_path"] == params["encrypt_key_path"] + ".pending"
    assert st["encrypt_staged_csr_path"] == params["encrypt_key_path"] + ".pending.csr"

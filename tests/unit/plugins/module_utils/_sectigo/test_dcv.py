# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv

from .helpers import FULL_SHA256, make_csr

MD5 = "55F0233969C9C4325B1A19D4B357ED20"


def test_values_of_the_seed_example_with_unique_value():
    values = dcv.domain_values("mn.gov", MD5, FULL_SHA256, "mTpFcllg")
    assert values["http_file_path"] == "/.well-known/pki-validation/55F0233969C9C4325B1A19D4B357ED20.txt"
    assert values["http_file_content"] == FULL_SHA256 + "\nsectigo.com\nmTpFcllg"
    assert values["http_url"] == "http://mn.gov/.well-known/pki-validation/55F0233969C9C4325B1A19D4B357ED20.txt"
    assert values["https_url"].startswith("https://mn.gov/.well-known/pki-validation/")
    assert values["cname_name"] == "_55F0233969C9C4325B1A19D4B357ED20.mn.gov"
    assert values["cname_target"] == \
        "549B164F1F97EC4095C3FEF212F6B860.16FF66F7F9115FFEBB2AB796FF226A80.mTpFcllg.sectigo.com"


def test_values_without_unique_value():
    values = dcv.domain_values("Example.COM.", MD5, FULL_SHA256)
    assert values["http_file_content"].splitlines() == [FULL_SHA256, "sectigo.com"]
    assert values["cname_name"] == "_%s.example.com" % MD5
    assert values["cname_target"] == "%s.%s.sectigo.com" % (FULL_SHA256[:32], FULL_SHA256[32:])


def test_wildcard_has_cname_under_base_and_no_file():
    values = dcv.domain_values("*.example.com", MD5, FULL_SHA256)
    assert values["cname_name"] == "_%s.example.com" % MD5
    assert values["http_file_path"] is None and values["http_file_content"] is None
    assert values["http_url"] is None


def test_file_name_md5_is_upper_case():
    assert dcv.http_file_path(MD5.lower()) == "/.well-known/pki-validation/%s.txt" % MD5


def test_hashes_are_of_the_der_csr():
    _pem, der = make_csr("www.example.com", "example.com")
    md5, sha256 = dcv.csr_hashes(der)
    assert md5 == hashlib.md5(der).hexdigest().upper()
    assert sha256 == hashlib.sha256(der).hexdigest().upper()
    assert len(md5) == 32 and len(sha256) == 64


@pytest.mark.parametrize("md5, sha256, unique, reason", [
    (MD5, FULL_SHA256[:-1], None, "SHA256"),          # the seed's own example is one digit short
    (MD5[:-1], FULL_SHA256, None, "MD5"),
    ("Z" * 32, FULL_SHA256, None, "MD5"),
    (MD5, FULL_SHA256, "not-alnum!", "uniqueValue"),
    (MD5, FULL_SHA256, "x" * 21, "uniqueValue"),
])
def test_check_hashes_refuses_bad_values(md5, sha256, unique, reason):
    with pytest.raises(dcv.DcvValueError, match=reason):
        dcv.check_hashes(md5, sha256, unique)


def test_check_hashes_normalises_blank_unique_value():
    assert dcv.check_hashes(" %s " % MD5, FULL_SHA256, "  ") == (MD5, FULL_SHA256, None)

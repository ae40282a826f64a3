# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DCV rules the sandbox's Sectigo stand-in takes from the collection:
which CSR-hash methods a name allows, and how a served file is compared."""

from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv

from .helpers import FULL_SHA256


@pytest.mark.parametrize("name,base", [(" WWW.Example.COM. ", "www.example.com"), ("*.Example.net", "example.net")])
def test_base_domain(name, base):
    assert dcv.base_domain(name) == base


def test_wildcards_get_cname_only():
    assert dcv.csr_hash_methods("*.example.net") == ["CNAME CSR Hash"]
    assert not dcv.http_file_allowed("*.example.net")
    assert dcv.csr_hash_methods("www.example.net") == ["CNAME CSR Hash", "HTTP CSR Hash", "HTTPS CSR Hash"]
    # what domain_values publishes agrees: no HTTP file for a wildcard
    assert dcv.domain_values("*.example.net", "A" * 32, FULL_SHA256)["http_file_path"] is None


@pytest.mark.parametrize("body", [
    FULL_SHA256 + "\nsectigo.com\nu1x2",
    FULL_SHA256 + "\r\nsectigo.com  \r\nu1x2\r\n\r\n",
])
def test_served_file_matches(body):
    assert dcv.http_file_matches(body, FULL_SHA256, "u1x2")


@pytest.mark.parametrize("body", [
    FULL_SHA256 + "\nsectigo.com",                   # uniqueValue missing
    FULL_SHA256.lower() + "\nsectigo.com\nu1x2",      # the hash in another case
    " " + FULL_SHA256 + "\nsectigo.com\nu1x2",        # leading space
    FULL_SHA256 + "\ncomodoca.com\nu1x2",             # the former target domain
    FULL_SHA256 + "\n\nsectigo.com\nu1x2",            # an empty line inside
])
def test_served_file_does_not_match(body):
    assert not dcv.http_file_matches(body, FULL_SHA256, "u1x2")


def test_served_file_matches_what_domain_values_publishes():
    content = dcv.domain_values("www.example.com", "A" * 32, FULL_SHA256, "u1x2")["http_file_content"]
    assert dcv.http_file_matches(content, FULL_SHA256, "u1x2")

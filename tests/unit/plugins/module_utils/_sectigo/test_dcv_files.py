# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dcv.http_validation_files: which HTTP validation files an order in pendingDCV needs on its host
(planned here, published by the role's controller step)."""

from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv

from .helpers import FULL_SHA256

MD5 = "55F0233969C9C4325B1A19D4B357ED20"
FILE = "/.well-known/pki-validation/%s.txt" % MD5


def summary(domains=(), md5=MD5, sha256=FULL_SHA256, unique=None):
    hashes = dict(md5=md5, sha256=sha256, unique_value=unique)
    return {"csr_hash": hashes,
            "domains": [dict(domain_name=name, dcv_status=state, **dcv.domain_values(name, md5, sha256, unique))
                        for name, state in domains]}


def test_one_file_for_every_name_not_yet_validated():
    files = dcv.http_validation_files(summary([("www.example.com", "Awaiting"), ("example.com", None),
                                               ("done.example.com", "Validated")]), [], "/var/www/html/")
    assert list(files) == ["/var/www/html" + FILE]
    content, names, urls = files["/var/www/html" + FILE]
    assert content == FULL_SHA256 + "\nsectigo.com"
    assert names == ["www.example.com", "example.com"]
    assert urls == ["http://www.example.com" + FILE, "http://example.com" + FILE]


def test_the_certificates_names_when_the_answer_lists_no_domains():
    files = dcv.http_validation_files(summary(unique="abc123"), ["a.example", "b.example"], "/")
    assert list(files) == [FILE]
    assert files[FILE][0].splitlines()[-1] == "abc123" and files[FILE][1] == ["a.example", "b.example"]


def test_everything_validated_needs_no_file():
    assert dcv.http_validation_files(summary([("a.example", "completed")]), [], "/srv/www") == {}


@pytest.mark.parametrize("case,words", [
    (dict(domains=[("*.example.com", None)]), "*.example.com cannot be validated with an HTTP file"),
    (dict(md5=None), "no MD5/SHA256"),
])
def test_refusals(case, words):
    domains = case.pop("domains", ())
    empty = {"csr_hash": dict(md5=None, sha256=None, unique_value=None), "domains": []}
    data = summary(domains, **case) if "md5" not in case else empty
    with pytest.raises(dcv.DcvValueError) as ei:
        dcv.http_validation_files(data, ["a.example"], "/var/www/html")
    assert words in str(ei.value)

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import chain

from .helpers import Pki, key, make_csr, pem


@pytest.fixture(scope="module")
def pki():
    return Pki()


def fps(certs):
    return [chain.fingerprint(c) for c in certs]


def test_root_first_array_becomes_leaf_first_chain(pki):
    # The API's order: root first, intermediate last.
    c, root, unused = chain.build_chain(pki.leaf, [pki.root, pki.intermediate])
    assert fps(c) == fps([pki.intermediate])
    assert chain.fingerprint(root) == chain.fingerprint(pki.root)
    assert unused == []


def test_cross_certificate_is_kept_and_old_root_left_out(pki):
    c, root, unused = chain.build_chain(pki.leaf, [pki.old_root, pki.cross, pki.intermediate])
    assert fps(c) == fps([pki.intermediate, pki.cross])
    assert chain.fingerprint(root) == chain.fingerprint(pki.old_root)


def test_self_signed_root_in_array_is_reached_without_the_cross(pki):
    # [R2, cross (R2's key by R1), intermediate by R2]: R2 signs the intermediate itself,
    # so the cross certificate is not needed to reach a root of the answer.
    c, root, unused = chain.build_chain(pki.leaf, [pki.root, pki.cross, pki.intermediate])
    assert fps(c) == fps([pki.intermediate])
    assert chain.fingerprint(root) == chain.fingerprint(pki.root)
    assert fps(unused) == fps([pki.cross])
    info = chain.describe(pem(pki.leaf), [pem(pki.root), pem(pki.cross), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate)
    assert info["root"] == pem(pki.root)
    assert info["chain_complete"] is True
    assert info["unused_certificates"] == [pem(pki.cross)]


def test_both_roots_in_array_take_the_shortest_path(pki):
    c, root, unused = chain.build_chain(pki.leaf, [pki.root, pki.old_root, pki.intermediate, pki.cross])
    assert fps(c) == fps([pki.intermediate])
    assert chain.fingerprint(root) == chain.fingerprint(pki.root)
    assert fps(unused) == fps([pki.old_root, pki.cross])


def test_cross_needed_to_reach_the_only_root(pki):
    # The sandbox's cross_sign: true layout: [R1, cross (R2 by R1), intermediate by R2].
    info = chain.describe(pem(pki.leaf), [pem(pki.old_root), pem(pki.cross), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate) + pem(pki.cross)
    assert info["root"] == pem(pki.old_root)
    assert info["chain_complete"] is True
    assert info["unused_certificates"] == []


def test_chain_ending_in_a_cross_of_the_root_is_complete(pki):
    # What certificate_deploy checks: a chain [intermediate, cross] given with root R2 ends
    # at R2 (the cross holds R2's name and key); with R1 it ends there by signature.
    assert chain.check_path(pki.leaf, [pki.intermediate, pki.cross], [pki.root]) is pki.cross
    assert chain.check_path(pki.leaf, [pki.intermediate, pki.cross], [pki.old_root]) is pki.cross
    assert chain.check_path(pki.leaf, [pki.intermediate], [pki.root]) is pki.intermediate
    with pytest.raises(chain.ChainError, match="does not end at the given root"):
        chain.check_path(pki.leaf, [pki.intermediate], [pki.old_root])
    with pytest.raises(chain.ChainError, match="does not end at the given root"):
        chain.check_path(pki.leaf, [pki.intermediate], [Pki().root])
    with pytest.raises(chain.ChainError, match="certificate 1 .* is not signed by the next one"):
        chain.check_path(pki.leaf, [pki.intermediate, pki.old_root], [pki.old_root])
    assert chain.check_path(pki.leaf, [pki.intermediate]) is pki.intermediate


def test_no_root_reached_is_not_complete(pki):
    info = chain.describe(pem(pki.leaf), [pem(Pki().root), pem(pki.intermediate)])
    assert info["chain"] == pem(pki.intermediate)
    assert info["chain_complete"] is False


def test_any_array_order_gives_same_chain(pki):
    import itertools
    arrays = itertools.permutations([pki.old_root, pki.cross, pki.intermediate])
    results = set(tuple(fps(chain.build_chain(pki.leaf, list(a))[0])) for a in arrays)
    assert len(results) == 1


def test_unrelated_certificates_are_unused(pki):
    other = Pki()
    c, root, unused = chain.build_chain(pki.leaf, [other.intermediate, pki.intermediate, pki.root])
    assert fps(c) == fps([pki.intermediate])
    assert fps(unused) == fps([other.intermediate])


def test_describe(pki):
    info = chain.describe(pem(pki.leaf), [pem(pki.root), pem(pki.intermediate)])
    assert info["certificate"] == pem(pki.leaf)
    assert info["chain"] == pem(pki.intermediate)
    assert info["fullchain"] == pem(pki.leaf) + pem(pki.intermediate)
    assert info["root"] == pem(pki.root)
    assert info["chain_complete"] is True
    assert info["subject_alt_names"] == ["www.example.com", "example.com"]
    assert info["serial_number"] == "%X" % pki.leaf.serial_number
    assert info["fingerprint"].startswith("SHA256:")
    assert info["not_before"].endswith("Z")


def test_split_pem_accepts_one_string_with_many_blocks_and_escaped_newlines(pki):
    blob = pem(pki.root) + pem(pki.intermediate)
    assert len(chain.split_pem(blob)) == 2
    assert len(chain.split_pem(blob.replace("\n", "\\n"))) == 2
    with pytest.raises(chain.ChainError):
        chain.split_pem("---begin xxxxxx ---end---")


def test_key_matches(pki):
    from cryptography.hazmat.primitives import serialization
    kpem = pki.leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    assert chain.key_matches(pem(pki.leaf), kpem)
    assert chain.key_matches(pem(pki.leaf), make_csr(pki.leaf_key))
    assert not chain.key_matches(pem(pki.leaf), make_csr(key()))

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs, orders
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError

from .helpers import key, make_csr


def test_csr_parses_and_names_default_from_it():
    csr = inputs.load_csr(make_csr(key()), "csr")
    assert inputs.resolve_names(csr, None, None) == ("www.example.com", ["www.example.com", "example.com"])


def test_csr_garbage_names_option():
    with pytest.raises(InputError) as ei:
        inputs.load_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", "csr_path")
    assert str(ei.value).startswith("csr_path:")


def test_csr_bad_signature():
    good = make_csr(key())
    lines = good.strip().splitlines()
    body = "".join(lines[1:-1])
    # flip a bit near the end (inside the signature)
    import base64
    der = bytearray(base64.b64decode(body))
    der[-5] ^= 0x01
    bad = "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n" % base64.b64encode(bytes(der)).decode()
    with pytest.raises(InputError) as ei:
        inputs.load_csr(bad, "csr")
    assert "signature" in str(ei.value)


def test_names_contradicting_csr():
    csr = inputs.load_csr(make_csr(key()), "csr")
    with pytest.raises(InputError) as ei:
        inputs.resolve_names(csr, "other.example.com", None)
    assert str(ei.value).startswith("common_name:")
    with pytest.raises(InputError) as ei:
        inputs.resolve_names(csr, None, ["www.example.com", "evil.example.com"])
    assert str(ei.value).startswith("hosts:") and "evil.example.com" in str(ei.value)
    # same set, other order and case: fine
    assert inputs.resolve_names(csr, "WWW.example.com", ["Example.com", "www.example.com"])[1] == \
        ["example.com", "www.example.com"]


@pytest.mark.parametrize("month", [0, 6, 36, "x", None])
def test_month(month):
    with pytest.raises(InputError) as ei:
        inputs.check_month(month)
    assert "month" in str(ei.value)


def test_product_id():
    assert inputs.check_product_id("30b3f256-9d2d-43c5-abcb-017aa9d3cb6d") == "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
    with pytest.raises(InputError) as ei:
        inputs.check_product_id("30B3F256")
    assert "product_id" in str(ei.value)


def test_country_code():
    assert inputs.check_country_code("cn") == "CN"
    for bad in ("CHN", "C1", "中国"):
        with pytest.raises(InputError) as ei:
            inputs.check_country_code(bad)
        assert "organization.country_code" in str(ei.value)


def test_organization_post():
    org = inputs.organization_post({"org_name": "X Ltd", "country_code": "cn", "id_card_no": None})
    assert org == {"orgName": "X Ltd", "countryCode": "CN"}
    with pytest.raises(InputError):
        inputs.organization_post({"country_code": "CN"})


def test_proof_files(tmp_path):
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(b"%PDF-1.4 hello")
    assert inputs.load_file(str(pdf), "proof_path") == (".pdf", "JVBERi0xLjQgaGVsbG8=")
    jpg_named_pdf = tmp_path / "x.pdf"
    jpg_named_pdf.write_bytes(b"\xff\xd8\xff\xe0data")
    with pytest.raises(InputError) as ei:
        inputs.load_file(str(jpg_named_pdf), "proof_path")
    assert "proof_path" in str(ei.value) and ".jpg" in str(ei.value)
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG")
    with pytest.raises(InputError):
        inputs.load_file(str(png), "proof_path")
    big = tmp_path / "big.gif"
    big.write_bytes(b"GIF89a" + b"0" * 100)
    with pytest.raises(InputError) as ei:
        inputs.load_file(str(big), "proof_path", max_bytes=50)
    assert "bytes" in str(ei.value)
    jpeg = tmp_path / "scan.JPEG"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0data")
    assert inputs.load_file(str(jpeg), "proof_path")[0] == ".jpg"


def test_documents(tmp_path):
    pdf = tmp_path / "lic.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    docs = inputs.load_documents([{"type": "business_license", "path": str(pdf)}])
    assert docs[0]["documentType"] == 2 and docs[0]["fileType"] == ".pdf"


def test_derived_idempotence_id_is_stable_and_sensitive():
    a = orders.derive_idempotence_id("p", "a.example", ["b.example", "a.example"], "k1", 12)
    b = orders.derive_idempotence_id("P", "A.example", ["a.example", "b.example", "a.example"], "k1", 12)
    assert a == b and a.startswith("wtp-") and len(a) == 44
    inputs.check_idempotence_id(a)
    assert a != orders.derive_idempotence_id("p", "a.example", ["a.example", "b.example"], "k2", 12)
    assert a != orders.derive_idempotence_id("p", "a.example", ["a.example", "b.example"], "k1", 24)


def test_create_body_shape():
    body = orders.build_create_body("P", "a.example", 12, "id1", csr="CSR", hosts=["a.example", "b.example"],
                                    organization={"orgName": "X"}, ukey_password="pw")
    info = body["orderInfoPost"]
    assert info == {"productID": "P", "commonName": "a.example", "month": 12, "idempotenceID": "id1",
                    "csr_RSA": "CSR", "hosts": "a.example,b.example", "uKeyPassword": "pw"}
    assert body["organizationPost"] == {"orgName": "X"} and body["documentsPost"] == []


def test_created_before():
    order = {"createTime": "2020-03-31T14:27:42.2866667+08:00"}
    assert orders.created_before(order, 2000000000) is True
    assert orders.created_before(order, 1585636062) is False
    assert orders.created_before({}, 2000000000) is None

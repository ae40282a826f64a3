# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks and filters that keep secrets and bad values away from the API: the U-key password the order query echoes, connection values, reasons."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders


class Answer:
    status, url, request_id = 200, "https://x/v1/Order/1", "r"

    def __init__(self, data):
        self.data = data


class Client:
    def __init__(self, data):
        self.data = data

    def order_path(self, order_id):
        return "/v1/Order/%s" % order_id

    def get(self, path, what=None):
        return Answer(self.data)


def test_get_order_drops_the_ukey_password_in_any_casing():
    for key in ("uKeyPassword", "ukeypassword", "UKEYPASSWORD"):
        order = orders.get_order(Client({"status": "issued", key: "s3cret-sentinel", "id": "1"}), "1")
        assert "s3cret-sentinel" not in repr(order)
        assert order["status"] == "issued" and order["id"] == "1"


def test_connection_values_that_cannot_work_are_refused_naming_the_option():
    import pytest
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError
    with pytest.raises(InputError) as ei:
        inputs.check_api_url("https://127.0.0.1:99999")
    assert "api_url" in str(ei.value) and "65535" in str(ei.value)
    with pytest.raises(InputError) as ei:
        WoTrusClient("https://127.0.0.1:8443", "tökén-€")
    assert "api_token" in str(ei.value) and "€" not in str(ei.value)


def test_reasons_are_checked_before_any_call():
    import pytest
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs, protocol
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError
    assert inputs.check_reason("  key compromise ", "reason") == "key compromise"
    for bad, words in (("", "is empty"), ("x" * (protocol.REASON_MAX_LENGTH + 1), "at most"),
                       ("bad\x00reason", "U+0000"), ("a\u202eb", "U+202E")):
        with pytest.raises(InputError) as ei:
            inputs.check_reason(bad, "cancel_reason")
        assert "cancel_reason" in str(ei.value) and words in str(ei.value)


def test_a_record_path_that_cannot_be_a_record_is_refused_before_any_call(tmp_path):
    import json
    import pytest
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import read_record
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError
    assert read_record(None) is None and read_record(str(tmp_path / "new.json")) is None
    (tmp_path / "ok.json").write_text(json.dumps(dict(version=1, order_id="42", idempotence_id="wtp-1")))
    assert read_record(str(tmp_path / "ok.json"))["order_id"] == "42"
    (tmp_path / "notes.txt").write_text("my notes, not a record\n")
    for path in (tmp_path, tmp_path / "gone" / "x.json", tmp_path / "notes.txt"):
        with pytest.raises(InputError) as ei:
            read_record(str(path))
        assert str(ei.value).startswith("record_path")
    assert (tmp_path / "notes.txt").read_text() == "my notes, not a record\n"


def test_a_csr_knows_its_key_type():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs
    for kind, key in (("ec", ec.generate_private_key(ec.SECP256R1())), ("rsa", rsa.generate_private_key(65537, 2048))):
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a.example")])).sign(key, hashes.SHA256())
        assert inputs.load_csr(csr.public_bytes(serialization.Encoding.PEM).decode(), "csr_sign").key_type == kind

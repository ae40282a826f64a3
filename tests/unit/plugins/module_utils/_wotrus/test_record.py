# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""record.py: the one owner of the order record -- schema, version, read, validate, text."""
from __future__ import annotations

import json

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records

# A record as the first version of the role wrote it (certificate_deploy after a renewal).
VERSION_1 = {
    "common_name": "www.example.com", "created": "2026-01-02T03:04:05Z", "deployed_at": "2026-01-02T03:06:00Z",
    "deployed_not_after": "2027-01-02T03:04:05Z", "deployed_order_id": "O-1", "deployed_serial": "059B",
    "hosts": ["www.example.com"], "idempotence_id": "wtp-" + "a" * 40, "is_pay": 1, "key": "staged",
    "month": 12, "name": "www", "order_id": "O-1", "order_id_rsa": None, "pending_link": None,
    "product_id": "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D", "purpose": "renew", "replaces_serial": "01",
    "status": "issued", "status_changed": "2026-01-02T03:05:00Z", "version": 1,
}


def test_reads_a_version_1_record_as_written_by_the_first_version(tmp_path):
    path = tmp_path / "www.crt.wotrus.json"
    path.write_text(json.dumps(VERSION_1, indent=2, sort_keys=True) + "\n")
    rec = records.read(str(path))
    assert rec == VERSION_1
    assert records.dumps(rec) == path.read_text()  # the same text back: a re-run rewrites nothing
    assert records.order_for(rec, VERSION_1["idempotence_id"]) == "O-1"
    assert records.order_for(rec, "other") is None


def test_new_record_round_trip():
    rec = records.new("k", "o1", product_id="P", hosts=["a"], month=12, now=0, name="www")
    assert rec["version"] == records.VERSION and rec["created"] == "1970-01-01T00:00:00Z" and rec["name"] == "www"
    assert records.loads(records.dumps(rec)) == rec
    assert records.placed_at(rec).isoformat() == "1970-01-01T00:00:00+00:00"


@pytest.mark.parametrize("text", [
    "not json", "[]", "{}", '{"order_id": ""}', '{"order_id": 7}', '{"order_id": "o", "hosts": "a,b"}',
    '{"order_id": "o", "month": "twelve"}', '{"order_id": "o", "version": 99}', b"\xff\xfe",
])
def test_unusable_records_read_as_none(text):
    assert records.loads(text) is None


def test_a_newer_version_says_so():
    with pytest.raises(records.RecordError) as ei:
        records.validate({"order_id": "o", "version": 2})
    assert "version 2" in str(ei.value) and "another version of wotrus.pki" in str(ei.value)


def test_missing_version_is_1_and_templated_numbers_are_numbers():
    rec = records.validate({"order_id": "o", "month": "24", "is_pay": "1"})
    assert rec["version"] == 1 and rec["month"] == 24 and rec["is_pay"] == 1


def test_absent_file_or_path_is_none(tmp_path):
    assert records.read(str(tmp_path / "absent.json")) is None
    assert records.read(None) is None and records.read("") is None

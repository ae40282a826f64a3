# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.status import summarize

from .helpers import FULL_SHA256, seed_answer


def test_summary_of_the_seed_answer():
    result, warnings = summarize(seed_answer()["data"])
    assert warnings == []
    assert result["order_number"] == "654824"
    assert result["order_status"] == "Pending"
    assert result["primary_domain_name"] == "mn.gov"
    assert set(result["sections"]) == {"csr", "dcv", "agreement", "callback", "organization",
                                       "second_approval", "fsup"}
    assert result["sections"]["organization"]["trademarkCheck"]["status"] == "NotApplicable"
    assert [d["domain_name"] for d in result["domains"]] == ["mn.gov", "mnsure.org", "state.mn.us"]
    first = result["domains"][0]
    assert first["dcv_status"] == "notCompleted"
    assert first["method_types"] == ["email", "csrHash", "manual"]
    assert first["csr_hash_available"] is True
    assert first["csr_hash_options"] == ["CNAME CSR Hash", "HTTP CSR Hash", "HTTPS CSR Hash"]
    assert first["http_file_path"] == "/.well-known/pki-validation/55F0233969C9C4325B1A19D4B357ED20.txt"
    assert first["cname_target"].endswith(".mTpFcllg.sectigo.com")
    assert result["csr_hash"] == {"md5": "55F0233969C9C4325B1A19D4B357ED20", "sha256": FULL_SHA256,
                                  "unique_value": "mTpFcllg", "target_domain": "sectigo.com"}


def test_upload_token_is_never_in_the_result():
    data = seed_answer()["data"]
    token = data["uploadDocumentToken"]
    result, _warnings = summarize(data)
    assert token not in json.dumps(result)
    assert result["upload_document_token_present"] is True
    assert result["upload_document_url"] == "https://avspartners.sectigolabs.com/avs/ws/api/v002/order"


def test_seed_hash_as_printed_gives_a_warning_and_no_values():
    # The text's example SHA256 has 63 digits.
    result, warnings = summarize(seed_answer(full_hash=False)["data"])
    assert len(warnings) == 1 and "SHA256" in warnings[0]
    assert all(d["cname_target"] is None and d["http_file_path"] is None for d in result["domains"])


def test_keys_are_read_case_insensitively():
    data = seed_answer()["data"]
    dcv_section = data.pop("dcvStatus")
    dcv_section["md5"] = dcv_section.pop("MD5")
    data["DCVStatus"] = dcv_section
    data["orderstatus"] = data.pop("orderStatus")
    result, _warnings = summarize(data)
    assert result["order_status"] == "Pending"
    assert result["domains"][0]["cname_name"].startswith("_55F0233969C9C4325B1A19D4B357ED20.")


def test_missing_sections_are_none():
    result, warnings = summarize({"orderNumber": 1, "orderStatus": "Current"})
    assert result["sections"]["fsup"] is None and result["domains"] == [] and warnings == []

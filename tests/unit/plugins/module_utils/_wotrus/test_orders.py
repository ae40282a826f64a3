# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Order status read case-insensitively, the status sets and createTime's zone kept in protocol.py."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import OrderStateError


@pytest.mark.parametrize("sent,read", [
    ("issued", "issued"),
    ("Issued", "issued"),
    ("ISSUED", "issued"),
    ("PENDINGDCV", "pendingDCV"),
    ("pendingdcv", "pendingDCV"),
    ("PendingRevoke", "pendingRevoke"),
    ("pendingSubmitOrderToCA", "pendingSubmitOrderToCA"),
    ("Reissued", "Reissued"),  # not named by the texts: kept as sent
    ("someNewState", "someNewState"),
])
def test_status_is_read_case_insensitively(sent, read):
    assert orders.status_of({"status": sent}) == read
    assert orders.status_of({"Status": sent}) == read
    assert orders.summary({"STATUS": sent})["status"] == read


def test_no_status_is_none():
    assert orders.status_of({}) is None
    assert protocol.canonical_status(None) is None


def test_why_not_issued_reads_any_casing():
    assert "domain validation" in orders.why_not_issued({"status": "PENDINGDCV", "isPay": 1})
    assert "closed" in orders.why_not_issued({"status": "Closed", "isPay": 1})


def test_cancel_and_revoke_plans_read_any_casing():
    assert orders.cancel_plan({"status": "Closed"}, "x") == "noop"
    with pytest.raises(OrderStateError):
        orders.cancel_plan({"status": "Issued"}, "x")
    assert orders.cancel_plan({"status": "PENDINGDCV"}, "x") == "cancel"
    assert certificates.revoke_plan({"status": "PendingRevoke"}, "x") == "noop"
    assert certificates.revoke_plan({"status": "Issued"}, "x") == "revoke"
    with pytest.raises(OrderStateError):
        certificates.revoke_plan({"status": "PENDINGDCV"}, "x")


# -- every reading in protocol.py ---------------------------------------------------
def test_status_sets_live_in_protocol():
    named = protocol.KNOWN_STATUSES
    for name in ("FINAL_STATUSES", "DEAD_STATUSES", "NEEDS_PERSON_STATUSES", "NOT_CANCELLABLE_STATUSES",
                 "CANCEL_DONE_STATUSES", "REVOKE_DONE_STATUSES", "NOT_REVOCABLE_STATUSES",
                 "NOT_REISSUABLE_STATUSES"):
        value = getattr(protocol, name)
        assert isinstance(value, frozenset) and value <= named, name
    assert protocol.STATUS_ISSUED not in protocol.NOT_REISSUABLE_STATUSES
    assert protocol.DEAD_STATUSES == (protocol.FINAL_STATUSES - {protocol.STATUS_ISSUED}) | {
        protocol.STATUS_PENDING_REVOKE}
    # The modules and module_utils use these, not copies of their own.
    assert not hasattr(orders, "CANCEL_DONE_STATUSES")
    assert not hasattr(certificates, "NOT_REVOCABLE_STATUSES")


def test_naive_create_time_is_in_the_provider_zone(monkeypatch):
    # Assumption: a createTime without offset is UTC+08:00 (protocol.PROVIDER_TIMEZONE).
    assert protocol.PROVIDER_TIMEZONE.utcoffset(None) == datetime.timedelta(hours=8)
    cst = orders.parse_time("2026-01-01T08:00:00")
    assert cst == orders.parse_time("2026-01-01T00:00:00Z")
    assert orders.parse_time("2026-01-01T08:00:00+08:00") == cst
    monkeypatch.setattr(protocol, "PROVIDER_TIMEZONE", datetime.timezone.utc)
    assert orders.parse_time("2026-01-01T08:00:00") == cst + 8 * 3600

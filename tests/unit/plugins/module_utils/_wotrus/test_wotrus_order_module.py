# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wotrus_order: a Create with a derived idempotence id that gets an old, finished order back warns."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
from ansible_collections.wotrus.pki.plugins.modules import wotrus_order

from .helpers import client, key, make_csr, ok

ORDER_ID = "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"


class FakeModule(object):
    check_mode = False

    def __init__(self, **params):
        self.params = dict(state="present", order_id=None, idempotence_id=None, record_path=None, product_id=PRODUCT,
                           common_name=None, hosts=None, csr=make_csr(key()), csr_path=None, month=12,
                           organization=dict(org_name="Example Ltd"), documents=[], ukey_password=None,
                           ukey_ship_address=None, csr_sign=None, bind_rsa_product_id=None,
                           cancel_reason="Cancelled by wotrus.pki")
        self.params.update(params)
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


def create_time(days_ago):
    # createTime as the service sends it: naive, in the provider's zone (UTC+08:00).
    when = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))) - datetime.timedelta(days=days_ago)
    return when.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def run(module, status, days_ago):
    c = client([ok({"orderId": ORDER_ID}),
                ok({"id": ORDER_ID, "status": status, "isPay": 1, "createTime": create_time(days_ago)})])
    return wotrus_order.ensure_present(module, c)


@pytest.mark.parametrize("status", ["issued", "Issued", "revoked", "closed"])
def test_derived_id_returning_last_years_order_warns(status):
    module = FakeModule()
    result = run(module, status, 365)
    assert result["changed"] is False and result["created"] is False
    assert result["idempotence_id"].startswith("wtp-")
    assert len(module.warnings) == 1
    msg = module.warnings[0]
    assert "this Create returned an existing order %s created at " % ORDER_ID in msg
    assert result["idempotence_id"] in msg
    assert "to order a new certificate (a renewal) with the same key, pass a new idempotence_id" in msg.lower()


@pytest.mark.parametrize("params,status,days_ago", [
    (dict(idempotence_id="crm-order-4711"), "issued", 365),  # the user chose the key: their call
    (dict(), "issued", 0.5),          # an honest re-run on the same day
    (dict(), "pendingDCV", 365),      # still the order being worked on
    (dict(), "issued", 0),            # created by this run
])
def test_no_warning(params, status, days_ago):
    module = FakeModule(**params)
    run(module, status, days_ago)
    assert module.warnings == []


def test_reused_order_warning_needs_a_create_time():
    assert orders.reused_order_warning({"status": "issued"}, 2000000000, "wtp-x") is None
    assert "wtp-x" in orders.reused_order_warning({"status": "ISSUED", "createTime": "2020-01-01 00:00:00"},
                                                  2000000000, "wtp-x")

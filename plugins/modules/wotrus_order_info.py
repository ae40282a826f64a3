#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_order_info
short_description: Read a WoTrus certificate order
version_added: 0.1.0
description:
  - Reads one order (C(GET /v1/Order/{orderId})) and returns it, with its status and what it waits for.
  - Changes nothing.
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - wotrus.pki.attributes.platform_posix
options:
  order_id:
    description:
      - The order to read.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Only reads; the same call is made in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: wotrus.pki.wotrus_order
  - module: wotrus.pki.wotrus_certificate
'''

EXAMPLES = r'''
- name: Read an order
  wotrus.pki.wotrus_order_info:
    order_id: "{{ www_order.order_id }}"
  delegate_to: localhost
  register: info

- name: Say what it waits for
  ansible.builtin.debug:
    msg: "{{ info.status }}: {{ info.waiting_for | default('issued') }}"
'''

RETURN = r'''
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order read.
  returned: success
  type: str
status:
  description:
    - The order's status. One of C(pendingSubmitOrderToCA), C(pendingDCV), C(pendingCAIssued), C(pendingAutoIssue),
      C(pending), C(pendingRevoke), C(issued), C(revoked), C(rejected), C(closed), C(unknown), or a status the
      API texts do not name (the old order after a reissue), returned as it is.
  returned: success
  type: str
  sample: pendingDCV
issued:
  sample: true
  description: Whether the order is issued.
  returned: success
  type: bool
revoked:
  sample: false
  description: Whether the order's certificate is revoked or its revocation is under review (C(revoked), C(pendingRevoke)).
  returned: success
  type: bool
is_pay:
  sample: 1
  description: C(0) unpaid (the order waits for payment, not validation), C(1) paid, C(2) issued before payment.
  returned: success
  type: int
pending_link:
  sample: "https://www.wosign.com/order/validate/644A3E60"
  description: The page where a person finishes validation, uploads documents or submits the CSR.
  returned: success
  type: str
waiting_for:
  sample: "the order waits for domain validation: publish the DCV values or finish it at https://www.wosign.com/order/validate/644A3E60"
  description: What the order waits for, in words.
  returned: when the order is not issued
  type: str
summary:
  description: Stable snake_case facts of the order (the API's key case varies).
  returned: success
  type: dict
  contains:
    order_number:
      sample: "2026120600001"
      description: The provider's order number.
      type: str
    product_id:
      sample: "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
      description: The product.
      type: str
    common_name:
      sample: "www.example.com"
      description: The certificate's CN.
      type: str
    hosts:
      sample: ["www.example.com", "example.com"]
      description: The certificate's names.
      type: list
      elements: str
    create_time:
      sample: "2026-12-06 16:15:00"
      description: When the order was created, as the API gives it.
      type: str
order:
  sample: {"orderId": "644A3E60-F1AA-4E25-821A-ACFBC462BC37", "status": "issued", "isPay": 1, "commonName": "www.example.com"}
  description: The order as the API returned it (key case as the service sent it).
  returned: success
  type: dict
'''

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs, orders, protocol


def main():
    module = create_module(dict(order_id=dict(type="str", required=True)), supports_check_mode=True)

    def ensure(client):
        result = engine.adopt(client, inputs.check_order_id(module.params["order_id"]))
        result.pop("created")
        result.update(issued=result["status"] == protocol.STATUS_ISSUED, summary=orders.summary(result["order"]))
        result["revoked"] = result["status"] in protocol.REVOKE_DONE_STATUSES
        return result

    run(module, ensure)


if __name__ == "__main__":
    main()

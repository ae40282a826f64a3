#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_revoke
short_description: Request revocation of a WoTrus certificate
version_added: 0.1.0
description:
  - Sends a revocation request (C(POST /v1/Certificate/RevokeRequest)) with a signed revocation letter.
  - Revocation is reviewed by people, the order passes through C(pendingRevoke) before C(revoked).
    An order already C(pendingRevoke) or C(revoked) is not changed.
  - An order that is not issued has nothing to revoke; cancel it with M(wotrus.pki.wotrus_order) and O(wotrus.pki.wotrus_order#module:state=absent).
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - wotrus.pki.attributes.platform_posix
options:
  order_id:
    description:
      - The issued order whose certificate is revoked.
    type: str
    required: true
  reason:
    description:
      - Why the certificate is revoked, for example V(key compromise).
    type: str
    required: true
  proof_path:
    description:
      - The signed revocation letter (WoTrus provides a template) as a C(.jpg), C(.gif) or C(.pdf) file of at
        most 10 MiB. Its content must match its extension. It is sent base64-encoded with its C(fileType).
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: Reads the order and predicts C(changed); sends no POST.
  diff_mode:
    support: none
    description: No diff.
notes:
  - The request carries no idempotency key. When an attempt has no clear answer, the order is read again
    and the request is sent again only when the order is not yet C(pendingRevoke) or C(revoked).
seealso:
  - module: wotrus.pki.wotrus_order
  - module: wotrus.pki.wotrus_reissue
'''

EXAMPLES = r'''
- name: Revoke a certificate whose key leaked
  wotrus.pki.wotrus_revoke:
    order_id: "{{ www_order.order_id }}"
    reason: key compromise
    proof_path: files/revocation-letter.pdf
  delegate_to: localhost
  register: revoke
'''

RETURN = r'''
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order.
  returned: success
  type: str
revoke_status:
  description: C(revokeStatus) of the answer, for example C(pendingAudit); null when no request was sent.
  returned: success
  type: str
  sample: pendingAudit
revoked:
  sample: true
  description: Whether the certificate is revoked now (C(revoked) of the answer, or the order's status).
  returned: success
  type: bool
status:
  description: The order's status after the request, for example C(pendingRevoke).
  returned: success
  type: str
  sample: pendingRevoke
'''

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs


def main():
    module = create_module(
        dict(order_id=dict(type="str", required=True), reason=dict(type="str", required=True),
             proof_path=dict(type="path", required=True)),
        supports_check_mode=True)

    def ensure(client):
        order_id = inputs.check_order_id(module.params["order_id"])
        reason = inputs.check_reason(module.params["reason"], "reason")
        proof = inputs.load_file(module.params["proof_path"], "proof_path")
        result = engine.revoke(client, order_id, reason, proof, check_mode=module.check_mode)
        result.pop("order")
        return result

    run(module, ensure)


if __name__ == "__main__":
    main()

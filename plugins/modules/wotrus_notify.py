#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_notify
short_description: Ask WoTrus to e-mail the user that a certificate is issued
version_added: 0.1.0
description:
  - Calls C(POST /v1/Notification/email) so that the provider e-mails the order's user a link where the
    certificate can be collected.
  - Every run sends an e-mail (C(changed=true)); guard the task with C(when) if it should run once.
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - wotrus.pki.attributes.platform_posix
options:
  order_id:
    description:
      - The issued order.
    type: str
    required: true
  collect_url:
    description:
      - The C(http://) or C(https://) address where the user collects the certificate.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Sends nothing and predicts C(changed=true).
  diff_mode:
    support: none
    description: No diff.
notes:
  - The request carries no idempotency key, so it is sent again only when it cannot have reached the
    service (connection refused, HTTP 408 or 429); other failures are reported, not retried, to avoid
    sending two e-mails.
seealso:
  - module: wotrus.pki.wotrus_certificate
'''

EXAMPLES = r'''
- name: Tell the user where to collect the certificate
  wotrus.pki.wotrus_notify:
    order_id: "{{ www_order.order_id }}"
    collect_url: https://portal.example.com/certificates/4711
  delegate_to: localhost
'''

RETURN = r'''
sent:
  description: Whether the provider sent the e-mail (C(false) in check mode).
  returned: success
  type: bool
  sample: true
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order.
  returned: success
  type: str
'''

from urllib.parse import urlsplit

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import certificates, inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError


def main():
    module = create_module(
        dict(order_id=dict(type="str", required=True), collect_url=dict(type="str", required=True)),
        supports_check_mode=True)

    def ensure(client):
        order_id = inputs.check_order_id(module.params["order_id"])
        url = module.params["collect_url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("collect_url", "must be an http:// or https:// address, got %r" % url)
        if module.check_mode:
            return dict(changed=True, sent=False, order_id=order_id)
        sent = certificates.notify(client, order_id, url)
        return dict(changed=True, sent=sent, order_id=order_id)

    run(module, ensure)


if __name__ == "__main__":
    main()

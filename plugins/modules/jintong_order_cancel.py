#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: jintong_order_cancel
short_description: Cancel an order through the 今通国际 (Jintong) OrderOpenApi
version_added: 0.1.0
description:
  - Sends C(OperateCancelOrder) to C(<server_url>/Api/OrderOpenApi.ashx) as an
    C(application/x-www-form-urlencoded) POST, signed with MD5 as the API text describes
    (field names sorted by ordinal order, null and empty values left out, the nested
    C(Param) flattened, C(Sign) and C(SignType) not signed; C(Sign = md5(joined + key))).
  - C(Param) is sent as XML; the C(Remark) is URL-encoded the way .NET C(HttpUtility.UrlEncode) does,
    while the signature covers its plain text, as in the text's worked example.
  - The answer (URL-encoded XML) is parsed; its C(Sign), when present, is verified with the same key,
    and an answer whose signature does not match is not trusted.
  - An order that is already cancelled is reported as no change.
  - The request is sent again only when it cannot have reached the service (connection refused, DNS,
    connect timeout); the API has no documented way to read the order back first.
requirements:
  - requests >= 2.31 (with urllib3 >= 1.26)
author:
  - wotrus.pki contributors (@wotrus)
options:
  server_url:
    description:
      - The C(ServerHostUrl) of the service, without C(/Api/OrderOpenApi.ashx).
      - If not set, the environment variable E(JINTONG_SERVER_URL) is used.
    type: str
    required: true
  partner:
    description:
      - The partner ID (C(Partner)).
      - If not set, the environment variable E(JINTONG_PARTNER) is used.
    type: str
    required: true
  key:
    description:
      - The partner's signing key, appended to the joined string before hashing. Never sent.
      - If not set, the environment variable E(JINTONG_KEY) is used.
    type: str
    required: true
  order_id:
    description:
      - The order number (C(OrderID)).
    type: str
    required: true
  consumer:
    description:
      - The user name the order belongs to (C(Consumer)).
    type: str
    required: true
  remark:
    description:
      - The reason for cancelling (C(Remark)); Chinese text is fine.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate when O(server_url) is HTTPS.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the answer.
    type: int
    default: 30
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_posix
  - wotrus.pki.attributes.action_group_jintong
attributes:
  check_mode:
    support: full
    description:
      - Sends nothing and predicts a change; the API has no documented way to read an order's state,
        so check mode cannot know that an order is already cancelled.
  diff_mode:
    support: none
    description: Nothing on the managed host changes.
notes:
  - The API text only documents plain HTTP; the key is never sent, but the request and answer are
    readable on the network. Use HTTPS when the service offers it.
  - The call is not retried; a cancel is a write and there is no read endpoint to check first.
  - Assumption (the text is silent) - a repeated cancel answers C(CallFail) with a description that says the
    order is already cancelled (for example C(订单已取消)); that answer is reported as C(changed=false).
  - Every C(MessageCode) but C(CallSuccess) fails with its meaning (table 3.3 of the text); codes the table
    lacks (the text's own failure example shows C(Unauthorized)) fail with the code and description.
seealso:
  - module: wotrus.pki.wotrus_order
    description: Cancel a WoTrus order (O(wotrus.pki.wotrus_order#module:state=absent)).
'''

EXAMPLES = r'''
- name: Cancel an order
  wotrus.pki.jintong_order_cancel:
    server_url: http://api.example.com
    partner: "{{ jintong_partner }}"
    key: "{{ jintong_key }}"
    order_id: "151103654827"
    consumer: jane88
    remark: 取消
'''

RETURN = r'''
order_id:
  description: The order.
  returned: always
  type: str
  sample: "151103654827"
message_code:
  description: The answer's C(MessageCode).
  returned: when a request was sent
  type: str
  sample: CallSuccess
description:
  description: The answer's C(Description).
  returned: when a request was sent
  type: str
  sample: 操作成功
signature_verified:
  description: Whether the answer carried a C(Sign) and it matched.
  returned: when a request was sent
  type: bool
  sample: true
already_cancelled:
  description: Whether the order was already cancelled.
  returned: when a request was sent
  type: bool
  sample: false
http_status:
  description: The HTTP status of the answer.
  returned: when a request was sent
  type: int
  sample: 200
error_code:
  description: The answer's C(MessageCode), on failure.
  returned: failure
  type: str
  sample: SignFail
error_msg:
  sample: "订单不存在"
  description: The answer's C(Description), on failure.
  returned: failure
  type: str
error_kind:
  description: What failed, as one word (C(transport), C(response), C(signature), C(api), C(input)).
  returned: failure
  type: str
  sample: api
url:
  sample: "http://api.example.com/Api/OrderOpenApi.ashx"
  description: The URL called, on failure.
  returned: failure
  type: str
'''

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.wotrus.pki.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.client import JintongClient, check_order_id
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.errors import JintongError


def ensure_cancelled(client, params, check_mode):
    """Return ``(changed, result)``; raises JintongError."""
    order_id = check_order_id(params["order_id"])
    result = dict(order_id=order_id)
    if check_mode:
        return True, result
    outcome = client.cancel_order(order_id, params["consumer"], params["remark"])
    result.update(message_code=outcome.message_code, description=outcome.description,
                  signature_verified=outcome.signature_verified, already_cancelled=outcome.already_cancelled,
                  http_status=outcome.http_status)
    return outcome.changed, result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            server_url=dict(type="str", required=True, fallback=(env_fallback, ["JINTONG_SERVER_URL"])),
            partner=dict(type="str", required=True, fallback=(env_fallback, ["JINTONG_PARTNER"])),
            key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["JINTONG_KEY"])),
            order_id=dict(type="str", required=True),
            consumer=dict(type="str", required=True),
            remark=dict(type="str", required=True),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    try:
        client = JintongClient(params["server_url"], params["partner"], params["key"], timeout=params["timeout"],
                               validate_certs=params["validate_certs"], log=module.log)
        changed, result = ensure_cancelled(client, params, module.check_mode)
    except JintongError as exc:
        module.fail_json(order_id=params["order_id"], **exc.to_result())
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()

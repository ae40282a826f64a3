#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sectigo_order_documents
short_description: Upload organisation documents of a Sectigo order
version_added: 0.1.0
description:
  - Uploads files to the document service of a Sectigo order (section 3 of the
    C(!getPostPaymentStatus) text), a multipart form post of C(token), C(file) and C(comment).
  - The upload URL and token come from C(!getPostPaymentStatus) (O(order_number) and the
    connection options), or are given directly as O(upload_url) and O(upload_token).
  - The service keeps no list of documents that could be read back, so every run
    that is not in check mode uploads the files again and reports a change.
    Guard the task (for example with O(ignore_when_completed) or a C(when)) to avoid duplicates.
author:
  - wotrus.pki contributors (@wotrus)
extends_documentation_fragment:
  - wotrus.pki.sectigo
  - wotrus.pki.attributes.platform_posix
  - wotrus.pki.attributes.action_group_sectigo
options:
  order_number:
    description:
      - The Sectigo order number; its status answer gives the upload URL and token.
      - Required unless O(upload_url) and O(upload_token) are given.
    type: str
  certificate_id:
    description:
      - The SASP certificate ID, sent with O(order_number).
    type: int
  upload_url:
    description:
      - The C(uploadDocumentUrl) of the order, to skip reading the order status.
    type: str
  upload_token:
    description:
      - The C(uploadDocumentToken) (a JWT) of the order, to skip reading the order status.
    type: str
  files:
    description:
      - Paths of the files to upload, on the host that runs the module.
    type: list
    elements: path
    required: true
  comment:
    description:
      - A comment sent with the files.
    type: str
  ignore_when_completed:
    description:
      - When the order's organisation validation section is V(Completed), upload nothing
        and report no change. Needs O(order_number).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the order status and checks the files, uploads nothing, and predicts a change.
  diff_mode:
    support: none
    description: Nothing on the managed host changes.
seealso:
  - module: wotrus.pki.sectigo_order_status
    description: Read the order's state, including whether organisation validation still needs documents.
'''

EXAMPLES = r'''
- name: Upload the business licence for organisation validation
  wotrus.pki.sectigo_order_documents:
    login_name: "{{ sectigo_login }}"
    login_password: "{{ sectigo_password }}"
    order_number: "654824"
    files:
      - /srv/docs/business-licence.pdf
    comment: Business licence, 2026
    ignore_when_completed: true
'''

RETURN = r'''
upload_url:
  description: Where the files were (or, in check mode, would have been) uploaded.
  returned: success
  type: str
  sample: https://avspartners.sectigolabs.com/avs/ws/api/v002/order
documents:
  description: The files, with their size and SHA-256.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      sample: "/srv/docs/business-licence.pdf"
      description: The path given.
      type: str
      returned: always
    name:
      sample: "business-licence.pdf"
      description: The file name sent.
      type: str
      returned: always
    size:
      sample: 184320
      description: Size in bytes.
      type: int
      returned: always
    sha256:
      sample: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
      description: SHA-256 of the content, hex.
      type: str
      returned: always
  sample:
    - path: /srv/docs/business-licence.pdf
      name: business-licence.pdf
      size: 48213
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
uploaded:
  description: Whether the files were sent.
  returned: success
  type: bool
  sample: true
organization_status:
  description: The status of the organisation validation section, when the order status was read.
  returned: when the order status was read
  type: str
  sample: InProgress
http_status:
  description: The HTTP status of the upload (or of the failure).
  returned: when the upload was attempted
  type: int
  sample: 303
error_code:
  sample: -16
  description: Sectigo's errorCode, when reading the order status failed.
  returned: failure
  type: int
error_msg:
  sample: "Incorrect login details, account is locked, password has expired or your source IP is blocked."
  description: The service's reason, on failure.
  returned: failure
  type: str
error_kind:
  sample: "auth"
  description: What failed, as one word (C(transport), C(response), C(api), C(auth), C(call_limit), C(upload), C(input)).
  returned: failure
  type: str
url:
  sample: "https://secure.trust-provider.com/products/!getPostPaymentStatus"
  description: The URL called, on failure.
  returned: failure
  type: str
'''

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import SectigoError
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.module_args import (
    SECTIGO_REQUIRED_TOGETHER,
    client_from_module,
    sectigo_argument_spec,
)
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.status import get_ci


def describe_files(paths):
    documents = []
    for path in paths:
        if not os.path.isfile(path):
            raise ValueError("The file %s does not exist or is not a regular file." % path)
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
        documents.append(dict(path=path, name=os.path.basename(path), size=os.path.getsize(path),
                              sha256=digest.hexdigest()))
    return documents


def ensure_uploaded(client, params, check_mode):
    """Return ``(changed, result)``; raises SectigoError or ValueError."""
    result = dict(documents=describe_files(params["files"]), uploaded=False)
    url, token = params["upload_url"], params["upload_token"]
    if params["order_number"] and (not (url and token) or params["ignore_when_completed"]):
        data = client.get_post_payment_status(params["order_number"], params["certificate_id"])
        if not (url and token):
            url = get_ci(data, "uploadDocumentUrl")
            token = get_ci(data, "uploadDocumentToken")
        result["organization_status"] = get_ci(get_ci(data, "organizationStatus", {}), "status")
        if not url or not token:
            raise SectigoError("Sectigo's status of order %s has no uploadDocumentUrl/uploadDocumentToken; "
                               "this order takes no documents now." % params["order_number"], url=client.api_url)
    result["upload_url"] = url
    if params["ignore_when_completed"] and result.get("organization_status") == "Completed":
        return False, result
    if check_mode:
        return True, result
    answer = client.upload_documents(url, token, params["files"], params["comment"])
    result["uploaded"] = True
    result["http_status"] = answer.status
    return True, result


def main():
    module = AnsibleModule(
        argument_spec=sectigo_argument_spec(
            order_number=dict(type="str"),
            certificate_id=dict(type="int"),
            upload_url=dict(type="str"),
            upload_token=dict(type="str", no_log=True),
            files=dict(type="list", elements="path", required=True),
            comment=dict(type="str"),
            ignore_when_completed=dict(type="bool", default=False),
        ),
        required_together=SECTIGO_REQUIRED_TOGETHER + [["upload_url", "upload_token"]],
        required_one_of=[["order_number", "upload_url"]],
        required_if=[["ignore_when_completed", True, ["order_number"]]],
        supports_check_mode=True,
    )
    params = module.params
    reads_status = params["order_number"] and (
        not (params["upload_url"] and params["upload_token"]) or params["ignore_when_completed"])
    if reads_status and not (params["login_name"] or params["sasp_session_id"]):
        module.fail_json(msg="Reading the upload URL of order %s needs login_name and login_password, "
                             "or sasp_session_id; or give upload_url and upload_token." % params["order_number"])
    try:
        client = client_from_module(module)
        changed, result = ensure_uploaded(client, params, module.check_mode)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except SectigoError as exc:
        module.fail_json(**exc.to_result())
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()

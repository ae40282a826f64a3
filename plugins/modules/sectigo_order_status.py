#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sectigo_order_status
short_description: Read the post-payment state of a Sectigo order, with its DCV values
version_added: 0.1.0
description:
  - Calls the Sectigo partner API C(!getPostPaymentStatus) for one order and returns
    the order status, every section of the answer (CSR, DCV, agreement, callback,
    organization, second approval, fast service) and, per domain, its DCV state and methods.
  - From the CSR hashes in the DCV section (C(MD5), C(SHA256), C(uniqueValue)) it also
    returns what a host must publish to prove control of each domain by CSR hash,
    that is the HTTP(S) validation file and the CNAME record.
  - Read-only; supports check mode fully.
author:
  - wotrus.pki contributors (@wotrus)
extends_documentation_fragment:
  - wotrus.pki.sectigo
  - wotrus.pki.attributes.platform_posix
  - wotrus.pki.attributes.action_group_sectigo
options:
  order_number:
    description:
      - The Sectigo order number.
    type: str
    required: true
  certificate_id:
    description:
      - The SASP certificate ID (up to 16 digits), sent as C(certificateID).
    type: int
attributes:
  check_mode:
    support: full
    description: Only reads; the same call is made in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - The CSR-hash DCV values follow Sectigo's documentation. For the HTTP(S) file method
    (U(https://www.sectigo.com/knowledge-base/detail/complete-domain-validation-using-http-http-s-method))
    the file is C(/.well-known/pki-validation/<MD5 in upper case>.txt) and its lines are the SHA-256
    hash, C(sectigo.com) and, when Sectigo gives one, the unique value. For the CNAME method
    (U(https://www.sectigo.com/faqs/detail/complete-dv-using-cname-method)) the record is
    C(_<MD5>.<domain>) CNAME C(<first 32 hex digits of the SHA-256>.<last 32>.[<unique value>.]sectigo.com).
    The three components of the token are described in
    U(https://docs.sectigo.com/sps/domain-control-validation/request-token).
    The target domain C(sectigo.com) (formerly C(comodoca.com)) is per the WoTrus API change log V1.07.
  - Wildcard names get no HTTP file values (Sectigo does not accept file-based DCV for them);
    their CNAME record goes under the name without C(*.).
  - When the hashes in the answer are not 32 and 64 hex digits, no DCV values are
    returned and a warning says why.
  - The C(uploadDocumentToken) of the answer is a credential and is not returned;
    use M(wotrus.pki.sectigo_order_documents) to upload documents.
seealso:
  - module: wotrus.pki.sectigo_order_documents
'''

EXAMPLES = r'''
- name: Read the state of a Sectigo order
  wotrus.pki.sectigo_order_status:
    login_name: "{{ sectigo_login }}"
    login_password: "{{ sectigo_password }}"
    order_number: "654824"
  register: sectigo

- name: Publish the HTTP validation file of every domain on the web root
  ansible.builtin.copy:
    dest: "/var/www/html{{ item.http_file_path }}"
    content: "{{ item.http_file_content }}"
    mode: "0644"
  loop: "{{ sectigo.domains | selectattr('http_file_path') | list }}"
  loop_control:
    label: "{{ item.domain_name }}"

- name: Show the CNAME records to create
  ansible.builtin.debug:
    msg: "{{ item.cname_name }} CNAME {{ item.cname_target }}"
  loop: "{{ sectigo.domains }}"
'''

RETURN = r'''
order_number:
  description: The order number.
  returned: success
  type: str
  sample: "654824"
order_status:
  description:
    - The order status, one of C(Current), C(Awaiting Payment), C(Payment Promised), C(Pending),
      C(Awaiting Authorization), C(Processed), C(Rejected), C(Refunded), C(ERROR!!!).
  returned: success
  type: str
  sample: Pending
product_type:
  description: The SASP object type ID.
  returned: success
  type: int
  sample: 410
product_name:
  description: The SASP product name.
  returned: success
  type: str
  sample: COMODO EV Multi-Domain SSL Certificate
certificate_duration:
  description: Certificate duration, in days.
  returned: success
  type: int
  sample: 365
product_term:
  description: Product term, in days.
  returned: success
  type: int
  sample: 365
domain_name:
  description: The common name, or C(Multiple domains) for a multi-domain certificate.
  returned: success
  type: str
  sample: Multiple domains
primary_domain_name:
  description: The primary domain name (multi-domain certificates only).
  returned: success
  type: str
  sample: mn.gov
max_mdc_domains:
  description: Maximum number of domains of a multi-domain certificate.
  returned: success
  type: int
  sample: 3
max_mdc_wildcard_domains:
  description: Maximum number of wildcard domains of a multi-domain certificate.
  returned: success
  type: int
  sample: 0
upload_document_url:
  description: Where organisation documents are uploaded (see M(wotrus.pki.sectigo_order_documents)).
  returned: success
  type: str
  sample: https://avspartners.sectigolabs.com/avs/ws/api/v002/order
upload_document_token_present:
  description: Whether the answer carried an upload token (the token itself is not returned).
  returned: success
  type: bool
  sample: true
sections:
  description:
    - Every status section of the answer, as the API sends it (keys in the API's camelCase).
    - A section the answer lacks is V(null).
  returned: success
  type: dict
  contains:
    csr:
      sample: {"status": "Completed"}
      description: C(csrStatus), the CSR section.
      type: dict
      returned: success
    dcv:
      sample:
        status: notCompleted
        MD5: 6A84C2516C992F86EE253B6CD21E0C0A
        SHA256: EBD48648350001A9318299E316B56626
        uniqueValue: abc123
        domains: []
      description: C(dcvStatus), the DCV section with C(MD5), C(SHA256), C(uniqueValue) and C(domains).
      type: dict
      returned: success
    agreement:
      sample: {"status": "Completed"}
      description: C(agreementStatus), the agreement execution section.
      type: dict
      returned: success
    callback:
      sample: {"status": "notRequired"}
      description: C(callbackStatus), the signer verification section.
      type: dict
      returned: success
    organization:
      sample: {"status": "Awaiting Validation"}
      description: C(organizationStatus), the organisation validation section and its checks.
      type: dict
      returned: success
    second_approval:
      sample: {"status": "notRequired"}
      description: C(secondApprovalStatus), second approval of EV orders.
      type: dict
      returned: success
    fsup:
      sample: {"status": "notRequired"}
      description: C(fsupStatus), the fast service section.
      type: dict
      returned: success
  sample:
    csr:
      title: Submit your CSR
      status: Completed
      availableActions: [canReplaceCSR]
csr_hash:
  description: The CSR hashes and unique value the DCV values are made from.
  returned: success
  type: dict
  contains:
    md5:
      sample: "6A84C2516C992F86EE253B6CD21E0C0A"
      description: MD5 of the DER CSR.
      type: str
      returned: success
    sha256:
      sample: "EBD48648350001A9318299E316B56626B5E1B1F83B8F5C4E7A8D7F3C2B1A0F9E"
      description: SHA-256 of the DER CSR.
      type: str
      returned: success
    unique_value:
      sample: "abc123"
      description: The unique value, if any.
      type: str
      returned: success
    target_domain:
      sample: "sectigo.com"
      description: The domain the CNAME target and file content name.
      type: str
      returned: success
  sample:
    md5: 55F0233969C9C4325B1A19D4B357ED20
    sha256: 549B164F1F97EC4095C3FEF212F6B86016FF66F7F9115FFEBB2AB796FF226A80
    unique_value: mTpFcllg
    target_domain: sectigo.com
domains:
  description: Per domain, its DCV state, methods and CSR-hash DCV values.
  returned: success
  type: list
  elements: dict
  contains:
    domain_name:
      sample: "www.example.com"
      description: The domain.
      type: str
      returned: always
    dcv_status:
      sample: "notCompleted"
      description: Its DCV state as the API names it (for example C(notCompleted), C(Completed)).
      type: str
      returned: always
    selected_method:
      sample: "Not yet set"
      description: The selected DCV method.
      type: str
      returned: always
    methods:
      sample: [{"type": "csrHash", "title": "Alternative Methods", "options": ["CNAME CSR Hash", "HTTP CSR Hash", "HTTPS CSR Hash"]}]
      description: The available DCV methods as the API sends them (C(type), C(title), C(level), C(options)).
      type: list
      elements: dict
      returned: always
    method_types:
      sample: ["email", "csrHash", "manual"]
      description: The C(type) of each method (C(email), C(whoisEmail), C(csrHash), C(manual)).
      type: list
      elements: str
      returned: always
    csr_hash_available:
      sample: true
      description: Whether the domain offers the C(csrHash) method.
      type: bool
      returned: always
    csr_hash_options:
      sample: ["CNAME CSR Hash", "HTTP CSR Hash", "HTTPS CSR Hash"]
      description: The CSR-hash variants offered (C(CNAME CSR Hash), C(HTTP CSR Hash), C(HTTPS CSR Hash)).
      type: list
      elements: str
      returned: always
    http_file_path:
      description: URL path of the validation file; V(null) for wildcard names or without valid hashes.
      type: str
      returned: always
      sample: /.well-known/pki-validation/55F0233969C9C4325B1A19D4B357ED20.txt
    http_file_content:
      sample: "6A84C2516C992F86EE253B6CD21E0C0AEBD48648350001A9318299E316B56626\nsectigo.com\nabc123"
      description: The file's content, its lines joined by a newline (no trailing newline).
      type: str
      returned: always
    http_url:
      sample: "http://www.example.com/.well-known/pki-validation/DE97586E5DBB12DB9B17DEA5C7D005E7.txt"
      description: The URL Sectigo fetches for C(HTTP CSR Hash).
      type: str
      returned: always
    https_url:
      sample: "https://www.example.com/.well-known/pki-validation/DE97586E5DBB12DB9B17DEA5C7D005E7.txt"
      description: The URL Sectigo fetches for C(HTTPS CSR Hash).
      type: str
      returned: always
    cname_name:
      description: The CNAME record's name (no trailing dot).
      type: str
      returned: always
      sample: _55F0233969C9C4325B1A19D4B357ED20.mn.gov
    cname_target:
      description: The CNAME record's target (no trailing dot).
      type: str
      returned: always
      sample: 549B164F1F97EC4095C3FEF212F6B860.16FF66F7F9115FFEBB2AB796FF226A80.mTpFcllg.sectigo.com
retries:
  description: How many times the call was retried because of the call limit (errorCode -42).
  returned: success
  type: int
  sample: 0
error_code:
  description: Sectigo's errorCode, on failure.
  returned: failure
  type: int
  sample: -16
error_msg:
  sample: "Incorrect login details, account is locked, password has expired or your source IP is blocked."
  description: Sectigo's errorMessage, on failure.
  returned: failure
  type: str
error_kind:
  sample: "auth"
  description: What failed, as one word (C(transport), C(response), C(api), C(auth), C(call_limit), C(input)).
  returned: failure
  type: str
url:
  sample: "https://secure.trust-provider.com/products/!getPostPaymentStatus"
  description: The URL called, on failure.
  returned: failure
  type: str
http_status:
  sample: 200
  description: The HTTP status, on failure.
  returned: failure
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import SectigoError
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.module_args import (
    SECTIGO_REQUIRED_TOGETHER,
    client_from_module,
    sectigo_argument_spec,
)
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.status import summarize


def main():
    module = AnsibleModule(
        argument_spec=sectigo_argument_spec(
            order_number=dict(type="str", required=True),
            certificate_id=dict(type="int"),
        ),
        required_together=SECTIGO_REQUIRED_TOGETHER,
        required_one_of=[["login_name", "sasp_session_id"]],
        supports_check_mode=True,
    )
    client = None
    try:
        client = client_from_module(module)
        data = client.get_post_payment_status(module.params["order_number"], module.params["certificate_id"])
    except SectigoError as exc:
        module.fail_json(retries=client.retried if client else 0, **exc.to_result())
    result, warnings = summarize(data)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, retries=client.retried, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: certificate_issue
short_description: Order, wait for and fetch a certificate from the controller, for what certificate_status found due
version_added: 0.1.0
description:
  - An action plugin. It runs on the controller, in the worker process of the task; no module
    is sent to the host and no process is forked for the API calls, so the API token stays on
    the controller. It is the controller step of the role C(wotrus.pki.certificate), not a module to
    use on its own (the wotrus_* modules are); its options come from the role's preflight plan and
    the host's status, which it trusts and does not check again.
  - It turns its options into a request to the collection's order engine
    (C(plugins/module_utils/_wotrus/engine.py)), the one the wotrus_* modules call too, and returns
    the engine's answer.
  - Acts on RV(wotrus.pki.certificate_status#module:due) of O(status).
    C(new) and C(renew) send C(Create) with an idempotence id derived from stable inputs
    (product, common name, sorted names, month, and in the key slot the SHA-256 of the CSR's
    public key bound to C(inventory_hostname), the certificate's name, the serial of the certificate
    it replaces and a failed order it follows), so a run that crashed after Create and runs again
    gets the same order back and buys nothing. C(resume) reads the recorded order and never
    creates one. C(reissue) sends C(ReissueRequest) for the recorded order with the new CSR
    (idempotence id from order and key). C(revoke) sends C(RevokeRequest) with O(proof_path).
  - "Then waits for issuance with backoff, printing a progress line per look
    (C(host1 www: order 89CB... pendingCAIssued, waited 30s of 600s)), up to O(wait_timeout).
    A resent Create that returned the order of an earlier run is said as such
    (C(existing order 89CB... idempotence id wtp-...: a resent Create returned it)), not as placed.
    An order that needs a person (C(pendingDCV), C(pending) with a C(pendingLink)) ends the wait at
    once with RV(state=needs_person) and the link."
  - With O(dcv=http), an order in C(pendingDCV) does not end the wait. The CSR-hash values of its
    C(orderNumber) are read from Sectigo (O(sectigo_api_url)), the file
    C(/.well-known/pki-validation/<MD5>.txt) is published under O(dcv_webroot) on the host with
    M(wotrus.pki.certificate_dcv_file) (run over the task's connection), and the wait goes on.
    The file paths go on the order record (C(dcv_files)); once the order is issued (or rejected)
    every file on record is removed. When the CA has not validated within O(wait_timeout) the
    result is RV(state=needs_person) and the file stays, so a later run can resume the order.
  - When issued, fetches the PEMs, builds the chain leaf-first from signatures and checks that the
    certificate holds the CSR's key.
  - API errors do not fail the task; they are returned in RV(error) (with the HTTP status and
    RequestID) so that the order record can be kept on the host first; the role fails the host
    right after. Wrong options do fail it.
author:
  - wotrus.pki contributors (@wotrus)
options:
  status:
    description: The result of M(wotrus.pki.certificate_status) for this certificate.
    type: dict
    required: true
  csr:
    description:
      - The CSR (PEM) for C(new), C(renew) and C(reissue).
      - An SM2 CSR (the role's C(key_type=sm2)) is the signing CSR of an SM2 product, sent as C(csr_Sign) on
        Create (which takes no encryption CSR, so the API certifies the signing key in the encryption certificate
        too) and as C(csr) on a reissue.
    type: str
  csr_encrypt:
    description:
      - The SM2 encryption CSR (PEM) of a reissue of an SM2 order (C(csR_Encrypt)), from a key of its own.
    type: str
  product_id:
    description: The WoTrus product ID.
    type: str
    required: true
  common_name:
    description: The common name.
    type: str
    required: true
  subject_alt_names:
    description: The names (sent as C(hosts)); the common name is always one.
    type: list
    elements: str
    default: []
  organization:
    description: The C(organizationPost) fields in snake case (C(org_name), C(country_code), ...), for OV products.
    type: dict
  idempotence_id:
    description: Use this idempotence id instead of the derived one.
    type: str
  wait_timeout:
    description: Seconds to wait for issuance in all.
    type: float
    default: 600
  poll_interval:
    description: Seconds between the first looks at the order; grows by half each time.
    type: float
    default: 5
  max_poll_interval:
    description: The longest pause between two looks.
    type: float
    default: 30
  reason:
    description: The reason sent with a reissue or a revocation.
    type: str
  proof_path:
    description:
      - A file on the controller (C(.pdf), C(.jpg), C(.gif)) sent as the proof of a revocation (required)
        or of a reissue (required by SM2 and Sectigo products only).
    type: path
  api_url:
    description:
      - The base URL of the WoTrus partner API. If not set, E(WOTRUS_API_URL) on the controller, then
        C(https://restapi.wosign.com).
      - Must be C(https://), or plain C(http://) only to C(localhost) or a loopback address (C(127.0.0.0/8), C(::1)).
    type: str
  api_token:
    description:
      - The partner API token. If not set, E(WOTRUS_API_TOKEN) on the controller.
      - Never returned; set C(no_log) on the task that passes it.
    type: str
  validate_certs:
    description: Whether to verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: A PEM bundle to verify the API with. If not set, E(WOTRUS_CA_PATH) on the controller.
    type: path
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 30
  dcv:
    description: C(http) publishes the HTTP validation file of an order in C(pendingDCV) (Sectigo-backed products).
    type: str
    choices: [none, http]
    default: none
  dcv_webroot:
    description: The web root on the host that every name serves over plain HTTP.
    type: str
    default: /var/www/html
  sectigo_api_url:
    description:
      - Sectigo's C(!getPostPaymentStatus) URL (O(dcv=http)). If not set, E(SECTIGO_API_URL) on the controller,
        then C(https://secure.trust-provider.com/products/!getPostPaymentStatus).
    type: str
  sectigo_login_name:
    description: The Sectigo login. If not set, E(SECTIGO_LOGIN_NAME) on the controller.
    type: str
  sectigo_login_password:
    description: The Sectigo password, never returned. If not set, E(SECTIGO_LOGIN_PASSWORD) on the controller.
    type: str
  sectigo_ca_path:
    description: A PEM bundle to verify Sectigo with. If not set, O(ca_path).
    type: path
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_controller
attributes:
  check_mode:
    support: full
    description:
      - Sends no POST; reads a recorded order; says what would be ordered; publishes no DCV file.
      - Without O(csr) (M(wotrus.pki.certificate_status) makes none in check mode when there is no CSR yet), what
        is due is predicted from O(status) alone (RV(state=would_order)), with no API call.
  diff_mode:
    support: none
    description: Nothing on disk changes here.
requirements:
  - requests >= 2.31 (on the controller)
  - cryptography >= 42 (on the controller)
seealso:
  - module: wotrus.pki.certificate_status
  - module: wotrus.pki.certificate_deploy
  - module: wotrus.pki.certificate_dcv_file
'''

EXAMPLES = r'''
- name: Order what is due (on the controller)
  wotrus.pki.certificate_issue:
    status: "{{ www_status }}"
    csr: "{{ www_csr.csr }}"
    product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
    common_name: www.example.com
    subject_alt_names: [www.example.com, example.com]
    organization: {org_name: Example Ltd, country_code: CN}
    api_token: "{{ wotrus_api_token }}"
  no_log: true
  register: www_issue
  when: www_status.due != 'none'
'''

RETURN = r'''
state:
  sample: "issued"
  description: >-
    C(issued), C(needs_person), C(timeout), C(failed), C(revoked), C(would_order), C(would_revoke),
    C(would_publish_dcv), C(none), C(error).
  type: str
  returned: always
error:
  sample: "order 644A3E60-F1AA-4E25-821A-ACFBC462BC37 was rejected: domain validation failed"
  description:
    - Why the order did not lead to a certificate (API error, rejected order, timeout), or any unexpected
      failure (for example a lost connection while publishing a DCV file), which is never raised, so that
      a task with C(no_log) still shows it and the record of an order already placed is still kept.
    - The API token and the Sectigo password are replaced by C(********) in it (and in every other field).
  type: str
  returned: on failure
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order.
  type: str
  returned: when an order is known
idempotence_id:
  sample: "wtp-5b9d0c2f8a4e6d1c3b7a9e0f2d4c6b8a1e3f5d7c"
  description: The idempotence id sent (or recorded).
  type: str
  returned: when an order is placed or resumed
record:
  sample:
    version: 1
    order_id: 644A3E60-F1AA-4E25-821A-ACFBC462BC37
    idempotence_id: wtp-5b9d0c2f8a4e6d1c3b7a9e0f2d4c6b8a1e3f5d7c
    product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
    common_name: www.example.com
    hosts:
    - www.example.com
    - example.com
    month: 12
    created: '2026-12-06T08:15:00Z'
  description: The order record to keep on the host (M(wotrus.pki.certificate_deploy) O(wotrus.pki.certificate_deploy#module:record)).
  type: dict
  returned: when an order is known
pending_link:
  sample: "https://www.wosign.com/order/validate/644A3E60"
  description: Where a person finishes validation.
  type: str
  returned: when RV(state=needs_person)
certificate:
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
  description: The certificate (PEM).
  type: str
  returned: when RV(state=issued)
chain:
  sample: "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
  description: The intermediates, leaf's issuer first, no root (PEM).
  type: str
  returned: when RV(state=issued)
encrypt_certificate:
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
  description: The SM2 encryption certificate (PEM) of an SM2 pair; RV(certificate) is then the signing certificate.
  type: str
  returned: when RV(state=issued) for an SM2 order
encrypt_chain:
  sample: "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
  description: The SM2 encryption certificate's intermediates, leaf's issuer first, no root (PEM).
  type: str
  returned: when RV(state=issued) for an SM2 order
fullchain:
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
  description: Certificate then chain (PEM).
  type: str
  returned: when RV(state=issued)
root:
  sample: "-----BEGIN CERTIFICATE-----\nMIID...\n-----END CERTIFICATE-----\n"
  description: The root the chain ends at (PEM).
  type: str
  returned: when RV(state=issued)
serial:
  sample: "059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D"
  description: Serial number as C(openssl x509 -serial) shows it (upper-case hex, a leading zero kept).
  type: str
  returned: when RV(state=issued)
api_calls:
  sample: 3
  description: How many HTTP calls were made to the API.
  type: int
  returned: always
sectigo_calls:
  sample: 0
  description: How many calls were made to Sectigo (O(dcv=http)).
  type: int
  returned: when Sectigo was called
'''

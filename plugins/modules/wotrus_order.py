#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_order
short_description: Create, adopt or cancel a WoTrus certificate order
version_added: 0.1.0
description:
  - Creates a certificate order through the WoTrus (沃通) partner API (C(POST /v1/Order/Create)),
    adopts an existing one by O(order_id), or cancels one that is not issued yet (O(state=absent)).
  - Every Create carries an C(idempotenceID) (O(idempotence_id), or one derived from the order's
    stable inputs), so a resend after a lost answer, a retry or a crash never makes a second order.
  - All input is checked before any call is made; the CSR's signature is verified and the names
    must agree with the CSR.
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - wotrus.pki.attributes.platform_posix
options:
  state:
    description:
      - V(present) creates the order unless it exists (see O(order_id), O(record_path)).
      - V(absent) cancels the order given by O(order_id) (or recorded in O(record_path)) if it is not issued.
    type: str
    choices: [present, absent]
    default: present
  order_id:
    description:
      - An existing order. With O(state=present) the order is read and returned, nothing is created
        and the result is not changed. The role keeps it in an order record next to the certificate.
      - Required with O(state=absent) unless O(record_path) holds a record.
    type: str
  idempotence_id:
    description:
      - The C(idempotenceID) of the Create call. One key makes at most one order.
      - If not set, it is derived from O(product_id), the common name, the sorted O(hosts), the CSR's
        public key, O(month), O(csr_sign)'s key and O(bind_rsa_product_id) (C(wtp-) and 40 hex digits).
        The same inputs give the same key on every run.
      - So a renewal that reuses the key (or sends no CSR) derives last time's key, and the service returns
        last time's order (C(changed=false)) instead of creating one. When a Create with a derived key returns
        an order that is issued, revoked (or being revoked), rejected or closed and was created more than a day
        before the run, the module warns. To renew with the same key, pass a new O(idempotence_id) (for example one naming
        the year or the renewal), or use a new key.
      - It is 1 to 64 letters, digits and the characters C(.), C(_), C(:) and C(-).
    type: str
  record_path:
    description:
      - A JSON order record on the machine that runs the module (holds no secret, mode 0600).
      - When it exists and holds the same idempotence id, its order is adopted with one GET and no Create,
        also in check mode; after a Create it is written.
    type: path
  product_id:
    description:
      - The WoTrus product ID (a GUID), for example V(30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D).
      - Required to create an order.
    type: str
  common_name:
    description:
      - The certificate subject's CN (for document-signing products usually the organisation's name).
      - Defaults to the CSR's CN; must agree with it when both are given.
    type: str
  hosts:
    description:
      - The names (SANs) of the certificate, sent as one comma-separated C(hosts) string.
      - Defaults to the CSR's subjectAltName; must be the same set when both are given.
    type: list
    elements: str
  csr:
    description:
      - The PEM certificate signing request (sent as C(csr_RSA)). Mutually exclusive with O(csr_path).
    type: str
  csr_path:
    description:
      - A file holding the PEM CSR.
    type: path
  month:
    description:
      - The validity in months. V(13) and V(25) are renewals that carry over the old certificate's remaining time.
    type: int
    choices: [12, 13, 24, 25]
    default: 12
  organization:
    description:
      - The organisation (C(organizationPost)). Required to create an order; O(organization.org_name) is
        required in it (the API requires C(orgName)).
    type: dict
    suboptions:
      org_name:
        description: Organisation name (C(orgName)).
        type: str
      business_category:
        description: Organisation type (C(businessCategory)).
        type: str
        choices: [Business Entity, Private Organization, Government Entity, Non-Commercial Entity]
      org_phone:
        description: Organisation phone (C(orgPhone)).
        type: str
      org_email:
        description: Organisation e-mail (C(orgEmail)).
        type: str
      user_first_name:
        description: Applicant's given name (C(userFirstName)).
        type: str
      user_last_name:
        description: Applicant's family name (C(userLastName)).
        type: str
      user_email:
        description: Applicant's e-mail (C(userEmail)).
        type: str
      user_mobile:
        description: Applicant's mobile phone (C(userMobile)).
        type: str
      id_card_no:
        description: Applicant's identity card number (C(idCardNO)).
        type: str
      country_code:
        description: ISO 3166 alpha-2 country code (C(countryCode)), such as V(CN).
        type: str
      state:
        description: Province (C(state)).
        type: str
      city:
        description: City (C(city)).
        type: str
      street:
        description: Street address (C(street)).
        type: str
      zip:
        description: Postal code (C(zip)).
        type: str
      business_license:
        description: Unified social credit code (C(businessLicense)).
        type: str
      other_name:
        description: Another name of the organisation (C(otherName)).
        type: str
  documents:
    description:
      - Documents sent with the order (C(documentsPost)), each a C(.jpg), C(.gif) or C(.pdf) file of at most 10 MiB.
    type: list
    elements: dict
    default: []
    suboptions:
      type:
        description: What the document is.
        type: str
        required: true
        choices: [authorization_letter, business_license, id_card]
      path:
        description: The file.
        type: path
        required: true
  ukey_password:
    description:
      - The UKey password of a PDF signing certificate (C(uKeyPassword)).
    type: str
  ukey_ship_address:
    description:
      - Where the UKey of a PDF signing certificate is shipped (C(uKeyShipAddress)).
    type: str
  csr_sign:
    description:
      - The SM2 signing CSR (C(csr_Sign)) for SM2 products, PEM. It must hold an SM2 key and be signed
        SM2-with-SM3 (C(openssl genpkey -algorithm SM2), C(openssl req -new -sm3)); its signature is checked with
        the OpenSSL 3 command line before anything is sent. Mutually exclusive with O(csr_sign_path).
      - The API's Create takes no encryption CSR; the sandbox certifies the signing CSR's key in the encryption
        certificate too (docs/assumptions.md). M(wotrus.pki.wotrus_reissue) with O(wotrus.pki.wotrus_reissue#module:csr_encrypt)
        gives the encryption certificate its own key.
    type: str
  csr_sign_path:
    description:
      - The SM2 signing CSR as a file on the machine that runs the module. Mutually exclusive with O(csr_sign).
    type: path
  bind_rsa_product_id:
    description:
      - The RSA product bound to an SM2 order (C(bindRSAProductID)). With O(csr) (the RSA CSR, C(csr_RSA)) the API
        makes a second, RSA order beside the SM2 one; RV(order_id_rsa) names it.
    type: str
  cancel_reason:
    description:
      - The reason sent with a cancel (O(state=absent)).
    type: str
    default: Cancelled by wotrus.pki
attributes:
  check_mode:
    support: full
    description:
      - Sends no POST. Without O(order_id) or a matching O(record_path) record, creating is predicted
        (C(changed=true)), since the API cannot look an order up by its idempotence id.
  diff_mode:
    support: none
    description: No diff is shown.
notes:
  - How a run knows the order already exists, in this order. 1. O(order_id) is given (the role keeps it in
    its order record next to the certificate). 2. O(record_path) holds a record with the same idempotence id.
    3. Create is sent with the idempotence id; the service returns the first order for a known key and creates
    nothing.
  - Only the run whose Create made the order says RV(created=true) and C(changed=true) - the order's C(createTime)
    is not more than 5 minutes older than the run, and the run is the first on this machine to receive that order
    for that idempotence id (it claims it with an exclusive file in a private directory under the system's
    temporary directory). So a re-run without O(record_path), or 20 concurrent runs with one key, give one order
    and one C(changed). See docs/modules.md.
  - The same idempotence id with other parameters (for example another organisation) is refused by the service;
    cancel the first order or give a new O(idempotence_id).
  - O(state=absent) fails on an issued, revoked or pendingRevoke order; use M(wotrus.pki.wotrus_revoke).
seealso:
  - module: wotrus.pki.wotrus_order_info
  - module: wotrus.pki.wotrus_certificate
  - module: wotrus.pki.wotrus_revoke
'''

EXAMPLES = r'''
- name: Order a DV certificate for the names in a CSR
  wotrus.pki.wotrus_order:
    api_token: "{{ wotrus_token }}"
    product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
    csr_path: /etc/pki/www.example.com.csr
    month: 12
    organization:
      org_name: Example Ltd
      country_code: CN
    record_path: /var/lib/wotrus/www.example.com.order.json
  delegate_to: localhost
  register: www_order

- name: An OV order with its organisation and a business licence
  wotrus.pki.wotrus_order:
    product_id: 8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C
    csr: "{{ lookup('ansible.builtin.file', 'shop.example.com.csr') }}"
    hosts: [shop.example.com, www.shop.example.com]
    idempotence_id: crm-order-4711
    organization:
      org_name: Example Trading Co., Ltd.
      business_category: Private Organization
      country_code: CN
      city: Shenzhen
    documents:
      - type: business_license
        path: files/licence.pdf
  register: shop_order

- name: An SM2 (国密) order, with an RSA certificate bound to it
  wotrus.pki.wotrus_order:
    product_id: E2B9C4A1-7D3F-4B8E-9C6A-5F1D2E3B4A7C  # the sandbox's SM2 product; use your account's
    csr_sign_path: /etc/pki/sm2.example.com.sign.csr  # openssl req -new -sm3 -key <an SM2 key>
    csr_path: /etc/pki/sm2.example.com.rsa.csr
    bind_rsa_product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
    hosts: [sm2.example.com, www.sm2.example.com]
    organization:
      org_name: Example Ltd
      country_code: CN
    record_path: /var/lib/wotrus/sm2.example.com.order.json
  register: sm2_order

- name: Read an order recorded earlier (not changed)
  wotrus.pki.wotrus_order:
    order_id: "{{ www_order.order_id }}"

- name: Cancel an order that is not issued yet
  wotrus.pki.wotrus_order:
    order_id: "{{ shop_order.order_id }}"
    state: absent
    cancel_reason: wrong domain

- name: Set the connection once for every WoTrus module
  module_defaults:
    group/wotrus.pki.wotrus:
      api_url: https://restapi.wosign.com
      api_token: "{{ wotrus_token }}"
  block:
    - name: Order
      wotrus.pki.wotrus_order:
        product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
        csr_path: www.csr
        organization:
          org_name: Example Ltd
          country_code: CN
'''

RETURN = r'''
order_id:
  description:
    - The order, whichever of C(orderId) and C(orderId_RSA) the Create answer carries (C(orderId) first).
    - Not returned when creating in check mode.
  returned: success
  type: str
  sample: 644A3E60-F1AA-4E25-821A-ACFBC462BC37
order_id_main:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: C(orderId) of the Create answer as given (the SM2 or main order).
  returned: when an order was created or re-sent
  type: str
order_id_rsa:
  sample: "7D1E2F30-4A5B-4C6D-8E9F-0A1B2C3D4E5F"
  description: C(orderId_RSA) of the Create answer as given (the RSA order).
  returned: when an order was created or re-sent
  type: str
idempotence_id:
  description: The idempotence id of the Create call (given or derived).
  returned: state is present and no order_id was given
  type: str
  sample: wtp-5b9d0c2f8a4e6d1c3b7a9e0f2d4c6b8a1e3f5d7c
status:
  description: The order's status, for example C(pendingDCV) or C(issued).
  returned: when the order was read
  type: str
  sample: pendingAutoIssue
is_pay:
  sample: 1
  description: C(0) unpaid, C(1) paid, C(2) issued before payment.
  returned: when the order was read
  type: int
pending_link:
  sample: "https://www.wosign.com/order/validate/644A3E60"
  description: The page where a person finishes validation, if the order has one.
  returned: when the order was read
  type: str
waiting_for:
  sample: "the order waits for payment (isPay 0), not for validation: pay it in the WoTrus partner console"
  description: What the order waits for, in words (payment, validation, the CA).
  returned: when the order was read and is not issued
  type: str
created:
  sample: true
  description: Whether this run created the order (see the notes); predicted true in check mode.
  returned: state is present
  type: bool
existing:
  sample: false
  description: Whether the order was there before this run (adopted from O(record_path), or returned by a resent Create).
  returned: state is present and no order_id was given
  type: bool
order:
  sample: {"orderId": "644A3E60-F1AA-4E25-821A-ACFBC462BC37", "status": "pendingAutoIssue", "isPay": 1, "commonName": "www.example.com"}
  description: The order as the API returned it (key case as the service sent it).
  returned: when the order was read
  type: dict
'''

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, keep_record, read_record, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError

ORG_SUBOPTIONS = dict(
    (name, dict(type="str", choices=list(protocol.BUSINESS_CATEGORIES)) if name == "business_category"
     else dict(type="str"))
    for name in protocol.ORGANIZATION_KEYS)


def create_request(params):
    """Check every input once and return the engine's CreateRequest; no call is made."""
    product_id = inputs.check_product_id(params["product_id"]) if params["product_id"] else None
    if not product_id:
        raise InputError("product_id", "is required to create an order (or give order_id to adopt one)")
    if params["common_name"] is not None and not str(params["common_name"]).strip():
        raise InputError("common_name", "is empty; leave it out to take the CSR's CN")
    csr = inputs.csr_from_options(params, required=False)
    csr_sign = inputs.csr_from_options(params, "csr_sign", "csr_sign_path", required=False)
    sign_option = "csr_sign_path" if params["csr_sign_path"] else "csr_sign"
    if csr_sign is not None and csr_sign.key_type != "sm2":
        raise InputError(sign_option, "must be the SM2 signing CSR of an SM2 product; this CSR's key is %s (give an "
                                      "RSA or ECDSA CSR as csr)" % csr_sign.key_type.upper())
    if csr is not None and csr.key_type == "sm2":
        raise InputError("csr_path" if params["csr_path"] else "csr",
                         "holds an SM2 key: an SM2 signing CSR goes in csr_sign (csr is the RSA or ECDSA CSR)")
    common_name, hosts = inputs.resolve_names(csr, params["common_name"], params["hosts"], product_id=product_id)
    if csr_sign is not None:  # the SM2 CSR names the order's names too (the only CSR of an SM2-only order)
        common_name, hosts = inputs.resolve_names(csr_sign, common_name, hosts, cn_option=sign_option,
                                                  hosts_option=sign_option, product_id=product_id)
    if not common_name:
        raise InputError("common_name", "is required when the CSR names no CN (or no CSR is given)")
    bind = inputs.check_product_id(params["bind_rsa_product_id"], "bind_rsa_product_id") \
        if params["bind_rsa_product_id"] else None
    if bind and csr_sign is None:
        raise InputError("bind_rsa_product_id", "binds an RSA order to an SM2 one: it needs csr_sign (the SM2 "
                                                "signing CSR of an SM2 product)")
    organization = inputs.organization_post(params["organization"])
    if not organization:
        raise InputError("organization", "is required to create an order: the API requires organization.org_name "
                                         "(orgName)")
    key = inputs.check_idempotence_id(params["idempotence_id"]) if params["idempotence_id"] is not None else None
    return engine.CreateRequest(
        product_id, common_name, hosts, inputs.check_month(params["month"]), csr=csr, organization=organization,
        documents=inputs.load_documents(params["documents"]), idempotence_id=key, csr_sign=csr_sign,
        bind_rsa_product_id=bind, ukey_password=params["ukey_password"],
        ukey_ship_address=params["ukey_ship_address"])


def ensure_present(module, client):
    params = module.params
    if params["order_id"]:
        order_id = inputs.check_order_id(params["order_id"])
        result = engine.adopt(client, order_id)
        wanted, have = params["product_id"], orders.summary(result["order"])["product_id"]
        if wanted and have and wanted.strip().upper() != str(have).upper():
            module.warn("order %s is for product %s, not product_id %s" % (order_id, have, wanted))
        return result
    result = engine.create(client, create_request(params), check_mode=module.check_mode,
                           record=read_record(params["record_path"]))
    return keep_record(module, params["record_path"], result)


def ensure_absent(module, client):
    params = module.params
    reason = inputs.check_reason(params["cancel_reason"], "cancel_reason")
    order_id = params["order_id"] or (read_record(params["record_path"]) or {}).get("order_id")
    if not order_id:
        raise InputError("order_id", "is required with state=absent (or a record_path holding a record)")
    return engine.cancel(client, inputs.check_order_id(order_id), reason,
                         check_mode=module.check_mode)


def main():
    module = create_module(
        dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            order_id=dict(type="str"),
            idempotence_id=dict(type="str"),
            record_path=dict(type="path"),
            product_id=dict(type="str"),
            common_name=dict(type="str"),
            hosts=dict(type="list", elements="str"),
            csr=dict(type="str"),
            csr_path=dict(type="path"),
            month=dict(type="int", choices=list(protocol.MONTHS), default=12),
            organization=dict(type="dict", options=ORG_SUBOPTIONS),
            documents=dict(type="list", elements="dict", default=[], options=dict(
                type=dict(type="str", required=True, choices=sorted(protocol.DOCUMENT_TYPES)),
                path=dict(type="path", required=True),
            )),
            ukey_password=dict(type="str", no_log=True),
            ukey_ship_address=dict(type="str", no_log=False),
            csr_sign=dict(type="str"),
            csr_sign_path=dict(type="path"),
            bind_rsa_product_id=dict(type="str"),
            cancel_reason=dict(type="str", default="Cancelled by wotrus.pki"),
        ),
        mutually_exclusive=[("csr", "csr_path"), ("csr_sign", "csr_sign_path")],
        supports_check_mode=True,
    )

    def ensure(client):
        if module.params["state"] == "absent":
            return ensure_absent(module, client)
        return ensure_present(module, client)

    run(module, ensure)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_reissue
short_description: Reissue a WoTrus certificate with a new CSR
version_added: 0.1.0
description:
  - Asks for a new certificate of an issued order with a new CSR (C(POST /v1/Certificate/ReissueRequest)).
    The answer names a new order, returned as RV(new_order_id); wait for it with M(wotrus.pki.wotrus_certificate).
  - Every request carries an C(idempotenceID) (O(idempotence_id), or one derived from the order and the CSR's
    public key), so retries and re-runs make at most one new order per key.
  - The provider revokes the old certificate only for SM2 and Sectigo products; for the others revoke it with
    M(wotrus.pki.wotrus_revoke) if it should stop working.
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - wotrus.pki.attributes.platform_posix
options:
  order_id:
    description:
      - The order to reissue.
    type: str
    required: true
  csr:
    description:
      - The new PEM CSR (the SM2 signing CSR for SM2 products). One of O(csr) and O(csr_path) is required.
    type: str
  csr_path:
    description:
      - A file holding the new PEM CSR.
    type: path
  csr_encrypt:
    description:
      - The SM2 encryption CSR (C(csR_Encrypt)), PEM; required by the API for SM2 products, with the SM2 signing CSR
        as O(csr) or O(csr_path). Both must hold SM2 keys and be signed SM2-with-SM3; their signatures are checked
        with the OpenSSL 3 command line before anything is sent. Mutually exclusive with O(csr_encrypt_path).
    type: str
  csr_encrypt_path:
    description:
      - The SM2 encryption CSR as a file on the machine that runs the module. Mutually exclusive with
        O(csr_encrypt).
    type: path
  reason:
    description:
      - Why the certificate is reissued.
    type: str
    required: true
  idempotence_id:
    description:
      - The C(idempotenceID) of the reissue. If not set, C(wtr-) and 40 hex digits derived from O(order_id) and
        the public keys of the CSRs; the same order and key give the same id on every run.
    type: str
  proof_path:
    description:
      - The signed revocation letter (C(.jpg), C(.gif) or C(.pdf), at most 10 MiB, content matching the extension).
      - The API requires it for SM2 and Sectigo products; this module requires it when O(csr_encrypt) is given or
        the order is an SM2 one. When the API refuses a reissue for want of it, the error names this option.
    type: path
  record_path:
    description:
      - A JSON record on the machine that runs the module. When it holds this reissue's idempotence id, the
        recorded new order is read and nothing is sent (also in check mode); after a reissue it is written.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Sends no POST. Without a matching O(record_path) record a reissue is predicted (C(changed=true)).
  diff_mode:
    support: none
    description: No diff.
notes:
  - The CSR's common name and names must be the order's (a reissue keeps them); otherwise the module fails
    naming O(csr) before anything is sent.
  - A re-run without a record re-sends the request with the same idempotence id and gets the same new order;
    it reports C(changed=false). As for M(wotrus.pki.wotrus_order), only the run whose request made the new order
    says C(changed=true) (see docs/modules.md).
seealso:
  - module: wotrus.pki.wotrus_certificate
  - module: wotrus.pki.wotrus_revoke
'''

EXAMPLES = r'''
- name: Reissue with a new key
  wotrus.pki.wotrus_reissue:
    order_id: "{{ www_order.order_id }}"
    csr_path: /etc/pki/www.example.com.new.csr
    reason: key rotation
    record_path: /var/lib/wotrus/www.example.com.reissue.json
  delegate_to: localhost
  register: reissue

- name: Fetch the new certificate
  wotrus.pki.wotrus_certificate:
    order_id: "{{ reissue.new_order_id }}"
    fullchain_path: /etc/pki/www.example.com.fullchain.pem
  delegate_to: localhost

- name: Reissue an SM2 pair, each certificate with a new key of its own
  wotrus.pki.wotrus_reissue:
    order_id: "{{ sm2_order.order_id }}"
    csr_path: /etc/pki/sm2.example.com.sign.new.csr
    csr_encrypt_path: /etc/pki/sm2.example.com.encrypt.new.csr
    proof_path: files/revocation-letter.pdf  # SM2 reissues revoke the old pair: the API wants the signed letter
    reason: key rotation
  register: sm2_reissue
'''

RETURN = r'''
new_order_id:
  description: The new order (C(newOrderID) of the answer). Not returned in check mode without a record.
  returned: success
  type: str
  sample: 644A3E60-F1AA-4E25-821A-ACFBC462BC37
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order that was reissued.
  returned: success
  type: str
idempotence_id:
  sample: "wtr-1c3e5a7b9d0f2e4c6a8b0d1f3e5c7a9b2d4f6e8a"
  description: The idempotence id used (given or derived).
  returned: success
  type: str
status:
  sample: "pendingAutoIssue"
  description: The new order's status.
  returned: when the new order was read
  type: str
order:
  sample: {"orderId": "9B8A7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D", "status": "pendingAutoIssue"}
  description: The new order as the API returned it.
  returned: when the new order was read
  type: dict
'''

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, keep_record, read_record, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError


def reissue_request(params):
    """Check every input once and return the engine's ReissueRequest; no call is made."""
    order_id = inputs.check_order_id(params["order_id"])
    reason = inputs.check_reason(params["reason"], "reason")
    csr = inputs.csr_from_options(params)
    csr_encrypt = inputs.csr_from_options(params, "csr_encrypt", "csr_encrypt_path", required=False)
    enc_option = "csr_encrypt_path" if params["csr_encrypt_path"] else "csr_encrypt"
    csr_option = "csr_path" if params["csr_path"] else "csr"
    if csr_encrypt is not None and csr_encrypt.key_type != "sm2":
        raise InputError(enc_option, "must be the SM2 encryption CSR of an SM2 order; this CSR's key is %s"
                                     % csr_encrypt.key_type.upper())
    if csr_encrypt is not None and csr.key_type != "sm2":
        raise InputError(csr_option, "must be the SM2 signing CSR when %s is given (an SM2 reissue); this CSR's key "
                                     "is %s" % (enc_option, csr.key_type.upper()))
    if csr.key_type == "sm2" and csr_encrypt is None:
        raise InputError("csr_encrypt", "is required: %s is an SM2 CSR, and the API reissues an SM2 certificate with "
                                        "both its signing and its encryption CSR" % csr_option)
    proof = inputs.load_file(params["proof_path"], "proof_path") if params["proof_path"] else None
    if csr_encrypt and not proof:
        raise InputError("proof_path", "is required with csr_encrypt: that is an SM2 reissue (the API requires a revocation "
                                       "letter for SM2 and Sectigo products)")
    key = inputs.check_idempotence_id(params["idempotence_id"]) if params["idempotence_id"] is not None else None
    return engine.ReissueRequest(order_id, csr, reason, idempotence_id=key, csr_encrypt=csr_encrypt, proof=proof)


def main():
    module = create_module(
        dict(
            order_id=dict(type="str", required=True),
            csr=dict(type="str"),
            csr_path=dict(type="path"),
            csr_encrypt=dict(type="str"),
            csr_encrypt_path=dict(type="path"),
            reason=dict(type="str", required=True),
            idempotence_id=dict(type="str"),
            proof_path=dict(type="path"),
            record_path=dict(type="path"),
        ),
        mutually_exclusive=[("csr", "csr_path"), ("csr_encrypt", "csr_encrypt_path")],
        required_one_of=[("csr", "csr_path")],
        supports_check_mode=True,
    )

    def ensure(client):
        params = module.params
        csr_option = "csr_path" if params["csr_path"] else "csr"
        result = engine.reissue(client, reissue_request(params), check_mode=module.check_mode,
                                record=read_record(params["record_path"]), csr_option=csr_option)
        return keep_record(module, params["record_path"], result)

    run(module, ensure)


if __name__ == "__main__":
    main()

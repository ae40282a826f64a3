#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: wotrus_certificate
short_description: Wait for a WoTrus order to be issued and fetch its certificate and chain
version_added: 0.1.0
description:
  - Reads the order, waits until it is issued (O(wait)), retrieves the PEMs (C(GET /v1/Certificate/RetrievePem))
    and returns the certificate, its chain and facts about it.
  - The chain is ordered by verifying signatures, not by the API's array order (root first). It starts with the
    leaf's issuer and leaves out the self-signed root. It is the shortest path to a self-signed certificate of
    the array, so a cross certificate is in it only when it is needed to reach a root of the array (with
    C([R2, R2 cross-signed by R1, intermediate]) the chain is the intermediate and the root R2).
  - Optionally writes the certificate, chain and full chain to files, atomically, with owner, group and mode,
    and a backup. The result is changed only when a file changes.
author:
  - wotrus.pki contributors (@wotrus-pki)
extends_documentation_fragment:
  - wotrus.pki.wotrus
  - ansible.builtin.files
  - wotrus.pki.attributes.platform_posix
options:
  order_id:
    description:
      - The order.
    type: str
    required: true
  wait:
    description:
      - Wait until the order is issued. When V(false) and the order is not issued, the module returns
        RV(issued=false) with RV(status) and RV(waiting_for) instead of a certificate.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for issuance. Polls start 5 seconds apart and grow to 30.
    type: int
    default: 600
  cert_path:
    description:
      - Where to write the certificate (PEM).
    type: path
  chain_path:
    description:
      - Where to write the chain (PEM, leaf's issuer first, without the root).
    type: path
  fullchain_path:
    description:
      - Where to write the certificate followed by the chain.
    type: path
  sign_cert_path:
    description:
      - Where to write the SM2 signing certificate (C(pem_Sign)), PEM. The order must be an SM2 one.
    type: path
  sign_chain_path:
    description:
      - Where to write the signing certificate's chain (leaf's issuer first, without the root).
    type: path
  sign_fullchain_path:
    description:
      - Where to write the signing certificate followed by its chain.
    type: path
  encrypt_cert_path:
    description:
      - Where to write the SM2 encryption certificate (C(pem_Encrypt)), PEM. The order must be an SM2 one.
    type: path
  encrypt_chain_path:
    description:
      - Where to write the encryption certificate's chain (leaf's issuer first, without the root).
    type: path
  encrypt_fullchain_path:
    description:
      - Where to write the encryption certificate followed by its chain.
    type: path
  backup:
    description:
      - Keep a timestamped copy of a file before it is replaced.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the API (the same GETs) and writes no file; predicts C(changed).
  diff_mode:
    support: full
    description: Shows each file's content before and after.
notes:
  - An order with C(isPay=0) waits for payment, not validation; the timeout message says so.
  - A C(revoked) or C(pendingRevoke) order was issued; its certificate is fetched (RetrievePem still answers) with
    RV(revoked=true), so a playbook re-run after a revocation does not fail here. A C(rejected) or C(closed) order
    fails, since it has no certificate.
  - For SM2 products the RSA certificate (C(pem_RSA)) is RV(certificate) when present, otherwise the signing
    certificate; RV(sign) and RV(encrypt) hold the SM2 pair, and O(sign_cert_path), O(encrypt_cert_path) and
    their chain options write them. Their chains are ordered by verifying the SM2-with-SM3 signatures with the
    OpenSSL 3 command line (the cryptography library has no SM2); only where no OpenSSL 3 is found do names and
    key identifiers order them.
seealso:
  - module: wotrus.pki.wotrus_order
  - module: community.crypto.x509_certificate_info
'''

EXAMPLES = r'''
- name: Wait for issuance and write the files
  wotrus.pki.wotrus_certificate:
    order_id: "{{ www_order.order_id }}"
    wait_timeout: 900
    cert_path: /etc/pki/tls/certs/www.example.com.crt
    chain_path: /etc/pki/tls/certs/www.example.com.chain.crt
    fullchain_path: /etc/pki/tls/certs/www.example.com.fullchain.crt
    mode: "0644"
    backup: true
  delegate_to: localhost
  register: cert

- name: Write an SM2 pair, each certificate with its chain
  wotrus.pki.wotrus_certificate:
    order_id: "{{ sm2_order.order_id }}"
    sign_cert_path: /etc/pki/sm2.example.com.sign.crt
    sign_chain_path: /etc/pki/sm2.example.com.sign.chain.crt
    encrypt_cert_path: /etc/pki/sm2.example.com.encrypt.crt
    encrypt_fullchain_path: /etc/pki/sm2.example.com.encrypt.fullchain.crt
  register: sm2_cert

- name: Only look, do not wait
  wotrus.pki.wotrus_certificate:
    order_id: "{{ www_order.order_id }}"
    wait: false
  register: cert
- name: Say why there is no certificate yet
  ansible.builtin.debug:
    msg: "{{ cert.waiting_for }}"
  when: not cert.issued
'''

RETURN = r'''
issued:
  sample: true
  description:
    - Whether the order was issued (with O(wait=true) always true on success). True also for an order that is
      C(revoked) or C(pendingRevoke), since it was issued; its certificate is returned (see RV(revoked)).
  returned: success
  type: bool
revoked:
  sample: false
  description: Whether the order is C(revoked) or C(pendingRevoke); the certificate is still fetched and a warning given.
  returned: success
  type: bool
status:
  description: The order's status.
  returned: success
  type: str
  sample: issued
waiting_for:
  sample: "the order waits for domain validation: publish the DCV values or finish it at https://www.wosign.com/order/validate/644A3E60"
  description: What the order waits for, in words.
  returned: when not issued
  type: str
pending_link:
  sample: "https://www.wosign.com/order/validate/644A3E60"
  description: The page where a person finishes validation.
  returned: when not issued and the order has one
  type: str
certificate:
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
  description: The certificate (PEM).
  returned: when issued
  type: str
chain:
  sample: "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
  description: The intermediates (PEM), the leaf's issuer first, without the self-signed root.
  returned: when issued
  type: str
fullchain:
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
  description: The certificate followed by the chain (PEM).
  returned: when issued
  type: str
root:
  sample: "-----BEGIN CERTIFICATE-----\nMIID...\n-----END CERTIFICATE-----\n"
  description:
    - The self-signed certificate of the API's chain array that the chain reaches (PEM).
    - When the chain reaches none, the first self-signed certificate of the array (and RV(chain_complete) is
      false), or null when the array holds none.
  returned: when issued
  type: str
chain_complete:
  sample: true
  description:
    - Whether the chain leads from the certificate to RV(root) (its last certificate is signed by RV(root) or is a
      cross certificate of it, holding its name and key).
  returned: when issued
  type: bool
unused_certificates:
  sample: []
  description:
    - The certificates of the API's chain array that are neither in RV(chain) nor RV(root) (PEM), for example a cross
      certificate that is not needed to reach RV(root).
  returned: when issued
  type: list
  elements: str
not_before:
  description: Start of validity (UTC, ISO 8601).
  returned: when issued
  type: str
  sample: "2026-01-01T00:00:00Z"
not_after:
  sample: "2027-12-06T23:59:59Z"
  description: End of validity (UTC, ISO 8601).
  returned: when issued
  type: str
serial_number:
  sample: "059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D"
  description: The serial number as C(openssl x509 -serial) shows it, upper-case hex with a leading zero kept (C(059B...)).
  returned: when issued
  type: str
fingerprint:
  sample: "SHA256:3A:7F:1C:9B:42:D8:6E:05:B1:C3:77:A9:2F:E4:10:5D:8C:6B:93:0E:F2:41:7A:DC:58:B9:26:13:E7:4F:A0:C5"
  description: The SHA-256 fingerprint, C(SHA256:AB:CD:...).
  returned: when issued
  type: str
subject:
  sample: "CN=www.example.com"
  description: The subject (RFC 4514).
  returned: when issued
  type: str
issuer:
  sample: "CN=WoTrus DV Server CA,O=WoTrus CA Limited,C=CN"
  description: The issuer (RFC 4514).
  returned: when issued
  type: str
subject_alt_names:
  sample: ["www.example.com", "example.com"]
  description: DNS names and IP addresses of the certificate.
  returned: when issued
  type: list
  elements: str
sign:
  sample:
    certificate: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
    serial_number: 0A1B2C3D4E5F
    not_after: '2027-12-06T23:59:59Z'
  description: The SM2 signing certificate with RV(chain), RV(fullchain), RV(root) and the facts above.
  returned: when the answer holds C(pem_Sign)
  type: dict
encrypt:
  sample:
    certificate: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
    serial_number: 0A1B2C3D4E60
    not_after: '2027-12-06T23:59:59Z'
  description: The SM2 encryption certificate with RV(chain), RV(fullchain), RV(root) and the facts above.
  returned: when the answer holds C(pem_Encrypt)
  type: dict
files:
  sample: {"/etc/pki/tls/certs/www.example.com.crt": {"changed": true, "backup_file": "/etc/pki/tls/certs/www.example.com.crt.2026-12-06@08:15:00~"}}
  description: Per written path, whether it changed and its backup file.
  returned: when a path option is given
  type: dict
'''

import os
import stat

from ansible_collections.wotrus.pki.plugins.module_utils import _files
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus_module import create_module, file_error, run
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, inputs, orders, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError, OrderStateError


# Each path option, the certificate of the answer (None: the primary one) and the key it is written from.
FILES = tuple((prefix + option, kind, key)
              for prefix, kind in (("", None), ("sign_", "sign"), ("encrypt_", "encrypt"))
              for option, key in (("cert_path", "certificate"), ("chain_path", "chain"),
                                  ("fullchain_path", "fullchain")))


def file_plan(module):
    """Check the path, mode, owner and group options before any API call (and so before any file
    is written): [(option, key, absolute path, FileAttrs)]."""
    p = module.params
    plan = []
    try:
        uid, gid = _files.lookup_owner(p["owner"]), _files.lookup_group(p["group"])
        for option, kind, key in FILES:
            if not p[option]:
                continue
            path = _files.check_target(p[option], option)
            current = os.stat(path).st_mode if os.path.exists(path) else None
            secontext = None
            if any(p.get(o) for o in ("seuser", "serole", "setype", "selevel")):
                secontext = module.load_file_common_arguments(p, path=path)["secontext"]
            attrs = _files.FileAttrs(_files.parse_mode(p["mode"], "mode", current and stat.S_IMODE(current)),
                                     uid, gid, tuple(secontext) if secontext else None)
            plan.append((option, kind, key, path, attrs))
    except _files.FileError as exc:
        raise file_error(exc, before_any_call=True)
    return plan


def write_files(module, plan, result):
    """Write the files with the collection's one writer; their diffs, each file's change and backup."""
    diffs, files = [], {}
    for option, kind, key, path, attrs in plan:  # all present before the first file is written
        if kind is not None and result.get(kind) is None:
            raise OrderStateError("%s: order %s has no SM2 %s certificate (pem_%s is empty): is it an SM2 order?"
                                  % (option, result["order_id"], kind, kind.capitalize()))
    for option, kind, key, path, attrs in plan:
        source = result if kind is None else result[kind]
        try:
            done = _files.ensure_file(module, path, source[key], attrs, option=option, backup=module.params["backup"])
        except _files.FileError as exc:
            raise file_error(exc)
        changed = done["changed"]
        if os.path.exists(path):
            # The SELinux context of a file whose content stays, and file attributes (chattr), which the
            # writer does not set, as the file module does; mode, owner and group are the writer's.
            args = module.load_file_common_arguments(module.params, path=path)
            args.update(mode=None, owner=None, group=None)
            changed = module.set_fs_attributes_if_different(args, changed)
        files[path] = dict(changed=changed, backup_file=done["backup_file"])
        if changed:
            result["changed"] = True
            diffs.append(done["diff"])
    return diffs, files


def ensure_certificate(module, client):
    p = module.params
    order_id = inputs.check_order_id(p["order_id"])
    if p["wait_timeout"] < 0:
        raise InputError("wait_timeout", "must be 0 or more seconds, got %d" % p["wait_timeout"])
    plan = file_plan(module)
    order = orders.get_order(client, order_id)
    status = orders.status_of(order)
    if not engine.fetchable(status):
        if status in protocol.DEAD_STATUSES:
            raise OrderStateError("order %s has no certificate to fetch: %s"
                                  % (order_id, orders.why_not_issued(order)), details=dict(status=status))
        if not p["wait"]:
            return dict(changed=False, issued=False, revoked=False, status=status,
                        waiting_for=orders.why_not_issued(order),
                        pending_link=orders.summary(order)["pending_link"], order_id=order_id)
        waited = engine.wait(client, order_id, max(0, p["wait_timeout"]), order=order)
        waited.raise_unless_issued(order_id, p["wait_timeout"])
        order, status = waited.order, waited.summary["status"]
    result = dict(changed=False, issued=True, revoked=status in protocol.REVOKE_DONE_STATUSES, status=status,
                  order_id=order_id)
    facts = engine.fetch(client, order_id, wait_timeout=p["wait_timeout"] if p["wait"] else 0)
    facts.pop("kinds")
    result.update(facts)
    if result["revoked"]:
        module.warn("order %s is %s: its certificate is (being) revoked; clients will refuse it once the "
                    "revocation is published" % (order_id, status))
    if not result["chain"]:
        module.warn("the API's chain for order %s holds no issuer of the certificate" % order_id)

    diffs, files = write_files(module, plan, result)
    if files:
        result["files"] = files
    if module._diff and diffs:
        result["diff"] = diffs
    return result


def main():
    module = create_module(
        dict(
            order_id=dict(type="str", required=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
            cert_path=dict(type="path"),
            chain_path=dict(type="path"),
            fullchain_path=dict(type="path"),
            sign_cert_path=dict(type="path"),
            sign_chain_path=dict(type="path"),
            sign_fullchain_path=dict(type="path"),
            encrypt_cert_path=dict(type="path"),
            encrypt_chain_path=dict(type="path"),
            encrypt_fullchain_path=dict(type="path"),
            backup=dict(type="bool", default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )

    def ensure(client):
        return ensure_certificate(module, client)

    run(module, ensure)


if __name__ == "__main__":
    main()

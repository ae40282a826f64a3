#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

DOCUMENTATION = r'''
module: certificate_status
short_description: Say whether a certificate on a host is due for an order, a renewal or nothing
version_added: 0.1.0
description:
  - Runs on the host that uses the certificate. Reads the order record kept next to the
    certificate, the deployed certificate and its key, and says what is due.
  - C(none) when the certificate is deployed, matches its key and names and has time left;
    C(new) when there is none (or it was not deployed from an order of this collection, or
    its key, names or product changed, or it was revoked); C(resume) when the record holds an
    order that is not deployed yet (the next step reads it, it never creates another);
    C(renew) when fewer than O(renew_before_days) days or O(renew_before_percent) percent of its
    lifetime are left; C(reissue) and C(revoke) when asked for.
  - A pending order whose product, common name or names are no longer the ones asked for is not
    resumed; the certificate is judged as if there were none (usually C(new)), and RV(why) names the
    change and the order, which is left as it is (cancel it with M(wotrus.pki.wotrus_order) O(wotrus.pki.wotrus_order#module:state=absent)).
  - This is all a run does for a certificate that is not due, so such a run makes no API call and changes
    nothing.
  - When something is due (and not in check mode), the same run makes what the order needs on the host, the
    missing directories (0755), the staged key at O(staged_key_path) and the CSR beside it (RV(staged_csr_path)),
    and returns the CSR in RV(csr). The key is made with the C(cryptography) library (RSA of at least 2048 bits
    or ECDSA on P-256 or P-384, O(key_type), O(key_size), O(curve)) and written with mode C(0600) from the
    file's creation, O(owner) and O(group) as asked; it never leaves the host and is never returned. A staged key
    that is there is kept unless it is not of the type, size or curve asked for, holds no unencrypted key, or
    is the key in use; a staged CSR for that key and these names is kept, so a resumed run sends the same CSR.
    With O(key_rotation=never) on a renewal the CSR is made from the key at O(key_path).
  - In check mode nothing is made; RV(csr) is the staged CSR when it would be kept, else null.
  - This is a step of the role C(wotrus.pki.certificate) (its first on the host), not a module to use on its
    own. Its options come from the role's preflight plan, which has checked and normalised them (names, month,
    paths, times); this module does not check them again.
  - Never returns key material.
  - Checks first that the host's Python and its C(cryptography) library are new enough for the
    host modules (see RV(python), requirements) and fails, naming what to install, when they are not;
    in check mode too. As the role's first task on a host, it so refuses such a host before any key,
    CSR or order is made. So it does when O(pkcs12) is true and the host's C(cryptography) cannot write a
    PKCS#12 file (it needs 38 or newer), naming the role's variables C(certificate_outputs) and
    C(certificate_pkcs12_encryption).
author:
  - wotrus.pki contributors (@wotrus)
options:
  name:
    description: A name for the certificate, unique on the host (used in messages).
    type: str
    required: true
  cert_path:
    description: Where the certificate (leaf only) is deployed.
    type: path
    required: true
  key_path:
    description: Where its private key is.
    type: path
    required: true
  record_path:
    description: The order record (the role's plan gives O(cert_path) followed by C(.wotrus.json)).
    type: path
    required: true
  staged_key_path:
    description:
      - Where a new key waits until its certificate is deployed (the role's plan gives O(key_path) followed by
        C(.pending)).
    type: path
    required: true
  other_paths:
    description:
      - The other files the certificate is deployed to (chain, full chain). Only their directories are looked at,
        for RV(missing_dirs).
    type: list
    elements: path
    default: []
  output_paths:
    description:
      - The outputs besides key and certificates (combined PEM, PKCS#12, DER). When the certificate is deployed and
        nothing else is due but one of them is missing, or is not a link into the certificate's store
        (C(.wotrus/<name>/) beside O(cert_path); a file made by hand that the role takes over), RV(due) is
        V(outputs) and certificate_deploy makes it from the deployed files, with no API call. Their directories
        count for RV(missing_dirs) too.
    type: list
    elements: path
    default: []
  key_type:
    description:
      - The type of a new key.
      - V(sm2) is an SM2 pair (国密), the signing key and CSR at O(staged_key_path) and, for a reissue, an encryption
        key and CSR of their own at O(encrypt_staged_key_path), made with the OpenSSL 3 command line (the cryptography
        library has no SM2). The encryption certificate at O(encrypt_cert_path) must be there and hold the key at
        O(encrypt_key_path), else a new order is due; the signing certificate decides expiry, names and renewal.
    type: str
    default: rsa
    choices: [rsa, ecdsa, sm2]
  encrypt_cert_path:
    description: The deployed SM2 encryption certificate (O(key_type=sm2)).
    type: path
  encrypt_key_path:
    description: The deployed SM2 encryption key (O(key_type=sm2)).
    type: path
  encrypt_staged_key_path:
    description:
      - Where the new SM2 encryption key of a reissue is staged; its CSR beside it (C(.csr)). Default
        O(encrypt_key_path) followed by C(.pending).
    type: path
  key_size:
    description: The bits of a new RSA key (at least 2048; the role's preflight allows 2048, 3072 and 4096).
    type: int
    default: 2048
  curve:
    description: The curve of a new ECDSA key (the role's preflight gives it from C(key_size) 256 or 384).
    type: str
    choices: [secp256r1, secp384r1]
  owner:
    description: The owner of the staged key (a name or a number); unset keeps the caller's.
    type: str
  group:
    description: The group of the staged key (a name or a number); unset keeps the caller's.
    type: str
  csr_subject_alt_names:
    description:
      - The subjectAltName of the CSR, typed (C(DNS:www.example.com), C(IP:192.0.2.1)), as the role's preflight
        gives them; empty, the common name as a DNS name.
    type: list
    elements: str
    default: []
  pkcs12:
    description:
      - Whether the certificate has a PKCS#12 output (one of O(output_paths)). When it has and the host's
        C(cryptography) is older than 38, the module fails before anything, in check mode too.
    type: bool
    default: false
  common_name:
    description: The common name the certificate must have.
    type: str
    required: true
  subject_alt_names:
    description: The DNS names (and IP addresses) it must have; the common name is always one.
    type: list
    elements: str
    default: []
  product_id:
    description: The WoTrus product; a change of product makes a new order due.
    type: str
    required: true
  month:
    description:
      - The months ordered for a new certificate, as the role's preflight checked them (12 or 24).
      - A renewal orders 13 (or 25) when the old certificate still has time left to carry over.
    type: int
    default: 12
  renew_before_days:
    description: Renew when fewer days than this are left.
    type: float
    default: 30
  renew_before_percent:
    description: Renew also when less than this percentage of the lifetime is left; V(0) turns it off.
    type: float
    default: 0
  renew_spread_days:
    description:
      - Spread renewals over this many days before the O(renew_before_days) / O(renew_before_percent) threshold;
        V(0) turns it off.
      - Each certificate renews on its own day of that window, placed from O(renew_spread_host) and O(name) (a
        hash, the same on every run), so a fleet bought in one week does not all renew in one night. The
        window is at most half the time between the certificate's C(notBefore) and the threshold.
      - RV(renew_on) says when.
    type: int
    default: 0
  renew_spread_host:
    description: The host name the spread is placed from (the role passes C(inventory_hostname)).
    type: str
    default: ""
  key_rotation:
    description:
      - On renewal, V(always) makes a new key, V(never) orders with the key in use.
      - A new certificate and a reissue always get a new key.
    type: str
    default: always
    choices: [always, never]
  force_renew:
    description:
      - Make a renewal due now for a certificate deployed by the role that nothing else makes due (like certbot's
        C(--force-renewal)). Every run with it set renews; set it for one run only.
    type: bool
    default: false
  reissue:
    description: Make a reissue of the deployed order due (with a new key).
    type: bool
    default: false
  reissue_issued_before:
    description:
      - With O(reissue=true), reissue only a certificate whose order was placed before this time
        (C(YYYY-MM-DDTHH:MM:SSZ), as the role's preflight hands it on); one placed later (already reissued by an
        earlier run) is not reissued and the other rules apply.
      - When the order was placed is read from the order record (C(created) of the deployed order, else
        C(deployed_at)); only without either is the certificate's C(notBefore) used, which CAs backdate
        (the sandbox by 5 minutes).
      - Makes a re-run of a reissue safe. Unset, every deployed certificate is reissued.
    type: str
  revoke:
    description: Make a revocation of the deployed order due.
    type: bool
    default: false
  only_order_id:
    description:
      - The push path (C(playbooks/on_push.yml)). When set, something is due only if the order record holds
        this order (pending or deployed), and only a resume of it (the order is read, then deployed when
        issued) or, with O(revoked_order_id) the same order, a new certificate. Anything else is not due
        (RV(why) says so); the next scheduled run does it. So a forged or replayed push places no order.
    type: str
  revoked_order_id:
    description:
      - An order the API says is revoked (C(playbooks/on_push.yml) reads it before it runs the role).
        A deployed certificate of that order is due for a new one, as one revoked by this role; a pending
        order of that id is not resumed.
    type: str
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_posix
attributes:
  check_mode:
    support: full
    description: Predicts what is due and makes nothing (no directory, key or CSR).
  diff_mode:
    support: none
    description: The files it makes are new (key, CSR); no diff is shown.
notes:
  - An order in C(rejected), C(closed), C(pendingRevoke) or C(revoked) is not resumed; the next
    order gets another idempotence id (the failed order id is part of it).
requirements:
  - Python >= 3.8 on the host
  - cryptography >= 3.4.8 on the host (the distribution's C(python3-cryptography) is enough, as on Ubuntu 22.04, RHEL 9 and Debian 12)
  - For O(key_type=sm2), OpenSSL 3.0 or newer (the C(openssl) command) on the host
seealso:
  - module: wotrus.pki.certificate_deploy
  - module: wotrus.pki.certificate_issue
'''

EXAMPLES = r'''
- name: What is due for the web certificate
  wotrus.pki.certificate_status:
    name: www
    cert_path: /etc/ssl/wotrus/www.crt
    key_path: /etc/ssl/wotrus/www.key
    record_path: /etc/ssl/wotrus/www.crt.wotrus.json
    staged_key_path: /etc/ssl/wotrus/www.key.pending
    common_name: www.example.com
    subject_alt_names: [www.example.com, example.com]
    product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
  register: www_status

- name: Show it
  ansible.builtin.debug:
    msg: "{{ www_status.due }}: {{ www_status.why }}"
'''

RETURN = r'''
due:
  sample: "renew"
  description: What is due.
  type: str
  returned: success
  choices: [none, new, resume, renew, reissue, revoke, outputs]
why:
  sample: "25.4 days left, fewer than renew_before_days 30"
  description: The reason, in a sentence.
  type: str
  returned: success
order_id:
  sample: "644A3E60-F1AA-4E25-821A-ACFBC462BC37"
  description: The order to resume, reissue or revoke.
  type: str
  returned: success
month:
  sample: 13
  description: The month to order (13 or 25 for a renewal that carries time over).
  type: int
  returned: success
new_key:
  sample: true
  description: Whether a new key must be made at RV(staged_key_path) before the CSR.
  type: bool
  returned: success
regenerate_key:
  sample: false
  description:
    - Whether the key at RV(staged_key_path) must be made anew although it exists, because it is the key in use
      (left by a deployment killed before it removed it).
  type: bool
  returned: success
csr_key_path:
  sample: "/etc/ssl/wotrus/www.key.pending"
  description: The key the CSR is made from (the staged key, or the key in use when it is kept).
  type: str
  returned: success
key:
  sample: "staged"
  description: C(staged) or C(current), which key the order is for.
  type: str
  returned: success
staged_key_path:
  sample: "/etc/ssl/wotrus/www.key.pending"
  description: Where the new key is staged.
  type: str
  returned: success
missing_dirs:
  sample: ["/etc/ssl/wotrus"]
  description:
    - The directories of O(cert_path), O(key_path), O(record_path), O(other_paths) and O(output_paths) that do
      not exist, sorted.
      The role makes them before it makes a key or places an order, so an order is never bought for files that
      cannot be written.
  type: list
  elements: str
  returned: success
staged_csr_path:
  sample: "/etc/ssl/wotrus/www.key.pending.csr"
  description: Where the CSR of a due order is kept until its certificate is deployed.
  type: str
  returned: success
csr:
  sample: "-----BEGIN CERTIFICATE REQUEST-----\n..."
  description: The PEM of the CSR the order sends (made or kept in this run); null when none is due or in check mode without one.
  type: str
  returned: success
csr_encrypt:
  sample: "-----BEGIN CERTIFICATE REQUEST-----\n..."
  description: The SM2 encryption CSR of a due SM2 reissue (made or kept in this run); null otherwise.
  type: str
  returned: success
encrypt_matches_key:
  sample: true
  description: With O(key_type=sm2), whether the deployed encryption certificate holds the key at O(encrypt_key_path).
  type: bool
  returned: when O(key_type=sm2)
made:
  sample: ["/etc/ssl/wotrus/www.key.pending", "/etc/ssl/wotrus/www.key.pending.csr"]
  description: The files this run wrote (the staged key, its CSR).
  type: list
  elements: str
  returned: success
key_made:
  sample: true
  description: Whether a new staged key was made (or, in check mode, would be).
  type: bool
  returned: success
key_why:
  sample: "its curve is secp256r1, not secp384r1"
  description: Why a new staged key was made (none yet, another type, size or curve, the key in use).
  type: str
  returned: when RV(key_made) is true
made_dirs:
  sample: ["/etc/ssl/wotrus"]
  description: The directories this run made (of RV(missing_dirs)).
  type: list
  elements: str
  returned: success
record:
  sample:
    version: 1
    order_id: 644A3E60-F1AA-4E25-821A-ACFBC462BC37
    product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
    common_name: www.example.com
    hosts:
    - www.example.com
    month: 12
  description: The order record, or null.
  type: dict
  returned: success
serial:
  sample: "059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D"
  description:
    - Serial number of the deployed certificate as C(openssl x509 -serial) shows it (upper-case hex, a leading
      zero kept).
  type: str
  returned: success
not_before:
  sample: "2025-12-30T00:00:00Z"
  description: The start of validity of the deployed certificate (UTC, ISO 8601).
  type: str
  returned: success
not_after:
  sample: "2026-12-31T23:59:59Z"
  description: Its end of validity (UTC, ISO 8601).
  type: str
  returned: success
renew_on:
  description:
    - When the deployed certificate is renewed (UTC, ISO 8601), by O(renew_before_days), O(renew_before_percent) and
      O(renew_spread_days); null without a certificate.
  type: str
  returned: success
  sample: "2027-02-11T04:17:33Z"
plan:
  description: One line for the role's output, what is due or when the certificate renews.
  type: str
  returned: success
  sample: "not due, renews on 2027-02-11T04:17:33Z (spread over 30 days)"
days_left:
  sample: 25.4
  description: Days of validity left.
  type: float
  returned: success
percent_left:
  sample: 6.9
  description: Percentage of the lifetime left.
  type: float
  returned: success
matches_key:
  sample: true
  description: Whether the deployed certificate holds the public key of O(key_path).
  type: bool
  returned: success
replaces_serial:
  sample: "059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D"
  description: The serial of the certificate the due order replaces.
  type: str
  returned: success
python:
  description: The host's Python and C(cryptography) the modules ran with.
  type: dict
  returned: success
  contains:
    executable:
      description: The interpreter.
      type: str
      sample: /usr/bin/python3
    version:
      description: Its version.
      type: str
      sample: 3.11.2
    cryptography:
      description: The version of C(cryptography).
      type: str
      sample: 38.0.4
'''

import platform
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _x509


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cert_path=dict(type="path", required=True),
            key_path=dict(type="path", required=True),
            record_path=dict(type="path", required=True),
            staged_key_path=dict(type="path", required=True),
            common_name=dict(type="str", required=True),
            subject_alt_names=dict(type="list", elements="str", default=[]),
            product_id=dict(type="str", required=True),
            month=dict(type="int", default=12),
            renew_before_days=dict(type="float", default=30),
            renew_before_percent=dict(type="float", default=0),
            renew_spread_days=dict(type="int", default=0),
            renew_spread_host=dict(type="str", default=""),
            key_rotation=dict(type="str", default="always", choices=["always", "never"]),
            force_renew=dict(type="bool", default=False),
            reissue=dict(type="bool", default=False),
            reissue_issued_before=dict(type="str"),
            revoke=dict(type="bool", default=False),
            other_paths=dict(type="list", elements="path", default=[]),
            output_paths=dict(type="list", elements="path", default=[]),
            pkcs12=dict(type="bool", default=False),
            key_type=dict(type="str", default="rsa", choices=["rsa", "ecdsa", "sm2"]),
            encrypt_cert_path=dict(type="path"),
            encrypt_key_path=dict(type="path"),
            encrypt_staged_key_path=dict(type="path"),
            key_size=dict(type="int", default=2048),
            curve=dict(type="str", choices=sorted(_x509.EC_CURVES)),
            owner=dict(type="str"),
            group=dict(type="str"),
            csr_subject_alt_names=dict(type="list", elements="str", default=[]),
            only_order_id=dict(type="str"),
            revoked_order_id=dict(type="str"),
        ),
        required_if=[("key_type", "sm2", ("encrypt_cert_path", "encrypt_key_path"))],
        supports_check_mode=True,
    )
    python = dict(executable=sys.executable, version=platform.python_version(),
                  cryptography=_x509.CRYPTOGRAPHY_VERSION)
    # Before anything else, also in check mode: the role's first task on a host refuses a host whose
    # Python or cryptography the later host modules cannot run with, before a key, CSR or order exists.
    problem = _x509.host_requirements_problem()
    if not problem and module.params["pkcs12"]:
        problem = _x509.pkcs12_problem("certificate_outputs (pkcs12), certificate_pkcs12_encryption")
        problem = problem and "%s: %s" % (module.params["name"], problem)
    if not problem and module.params["key_type"] == "sm2":
        from ansible_collections.wotrus.pki.plugins.module_utils import _sm2
        try:
            _sm2.find_openssl()
        except _sm2.Sm2Error as exc:
            problem = "%s: key_type sm2: %s" % (module.params["name"], exc)
    if problem:
        module.fail_json(msg=problem, python=python)
    params = dict(module.params)
    result = role_status.compute_status(params)
    result["missing_dirs"] = role_status.missing_dirs(
        [params["cert_path"], params["key_path"], params["record_path"]] + params["other_paths"] + params["output_paths"]
        + [x for x in (params["encrypt_cert_path"], params["encrypt_key_path"]) if x and params["key_type"] == "sm2"])
    # Imported only now: the file writer needs Python 3.7 (dataclasses), and a Python 3.6 host must get the
    # refusal above, not an ImportError.
    from ansible_collections.wotrus.pki.plugins.module_utils import _files
    from ansible_collections.wotrus.pki.plugins.module_utils import _role_keys as role_keys
    try:
        made = role_keys.prepare(module, params, result)
    except (role_keys.HostStepError, _files.FileError, ValueError) as exc:
        module.fail_json(msg="%s: %s" % (params["name"], getattr(exc, "msg", None) or exc), python=python,
                         due=result["due"], why=result["why"])
    result.update(made)
    module.exit_json(python=python, **result)


if __name__ == "__main__":
    main()

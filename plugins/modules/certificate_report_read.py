#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# No `from __future__ import annotations`: this file runs on managed hosts.
DOCUMENTATION = r'''
module: certificate_report_read
short_description: Read the certificates of a host for the certificate report
version_added: 0.1.0
description:
  - A step of C(playbooks/report.yml), run on each host. Reads the deployed certificates the role manages
    and, when asked, any other PEM certificates under given paths, and says for each its subject, names,
    issuer, serial, validity and key type and size.
  - With O(check_served=true) it connects to each certificate's O(certificates[].served_address) with the
    certificate's name as SNI and says whether the certificate served is the one deployed.
  - Read-only; no API call. Never returns key material.
author:
  - wotrus.pki contributors (@wotrus)
options:
  certificates:
    description: The certificates the role manages on this host (the role's preflight plan).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The certificate's name in the role.
        type: str
        required: true
      cert_path:
        description: Where the certificate is deployed.
        type: path
        required: true
      server_name:
        description: The name sent as SNI for O(check_served) (the certificate's common name).
        type: str
      served_address:
        description: Where the service listens, C(host:port), for O(check_served).
        type: str
  extra_paths:
    description:
      - Other files or directories to read; a directory is searched (recursively, up to 2,000 files) for
        files ending in C(.pem), C(.crt) or C(.cer). Files that hold no certificate are left out; each
        certificate found is reported (the first of a file, the leaf).
    type: list
    elements: path
    default: []
  check_served:
    description: Compare the certificate each service serves with the deployed one.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each service when O(check_served=true).
    type: float
    default: 5
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_posix
  - wotrus.pki.attributes.read_only
requirements:
  - cryptography >= 3.4.8 on the host
seealso:
  - module: wotrus.pki.certificate_status
'''

EXAMPLES = r'''
- name: Read the web certificate and the files under /etc/ssl/certs/local
  wotrus.pki.certificate_report_read:
    certificates:
      - name: www
        cert_path: /etc/ssl/wotrus/www.crt
        server_name: www.example.com
        served_address: 127.0.0.1:443
    extra_paths: [/etc/ssl/certs/local]
    check_served: true
  register: read
'''

RETURN = r'''
certificates:
  description: One entry per certificate of O(certificates), in order.
  type: list
  elements: dict
  returned: always
  sample:
    - name: www
      path: /etc/ssl/wotrus/www.crt
      subject: CN=www.example.com
      sans: [www.example.com]
      issuer: CN=WoTrus DV Server CA
      serial: 059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D
      not_before: "2025-12-30T00:00:00Z"
      not_after: "2026-12-31T23:59:59Z"
      key_type: ecdsa
      key_size: 256
      served: true
      served_serial: 059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D
      error: null
extra:
  description: One entry per certificate found under O(extra_paths) (the same keys, C(name) is the path).
  type: list
  elements: dict
  returned: always
  sample: []
'''

import os
import socket
import ssl

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wotrus.pki.plugins.module_utils import _x509

SUFFIXES = (".pem", ".crt", ".cer")
MAX_FILES = 2000


def key_facts(cert):
    """(type, size) of the certificate's public key: rsa, ecdsa, ed25519, ed448, dsa."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    try:
        key = cert.public_key()
    except Exception:  # pylint: disable=broad-except
        return None, None
    for kind, cls in (("rsa", rsa.RSAPublicKey), ("ecdsa", ec.EllipticCurvePublicKey), ("dsa", dsa.DSAPublicKey)):
        if isinstance(key, cls):
            return kind, key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456
    return type(key).__name__, None


def describe(cert, path, name):
    facts = _x509.cert_facts(cert)
    key_type, key_size = key_facts(cert)
    return dict(name=name, path=path, subject=facts["subject"], sans=facts["subject_alt_names"],
                issuer=facts["issuer"], serial=facts["serial_number"], not_before=facts["not_before"],
                not_after=facts["not_after"], key_type=key_type, key_size=key_size, served=None,
                served_serial=None, error=None)


def read_file(path, name):
    try:
        with open(path, "rb") as handle:
            data = handle.read(1024 * 1024)
    except (IOError, OSError) as exc:
        return dict(name=name, path=path, error="cannot read %s: %s" % (path, exc.strerror or exc))
    certs = _x509.load_certs(data)
    if not certs:
        return dict(name=name, path=path, error="%s holds no PEM certificate" % path)
    return describe(certs[0], path, name)


def served(address, server_name, timeout):
    """The certificate served at ``host:port`` with SNI ``server_name`` (not verified: it is compared)."""
    host, _sep, port = address.rpartition(":")
    host = host.strip("[]")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname=server_name or None) as tls:
            der = tls.getpeercert(binary_form=True)
    from cryptography import x509
    return x509.load_der_x509_certificate(der)


def extra_files(paths):
    out = []
    for path in paths:
        if os.path.isfile(path):
            out.append(path)
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for fname in sorted(files):
                if fname.lower().endswith(SUFFIXES):
                    out.append(os.path.join(root, fname))
                if len(out) >= MAX_FILES:
                    return out
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            certificates=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                cert_path=dict(type="path", required=True),
                server_name=dict(type="str"),
                served_address=dict(type="str"),
            )),
            extra_paths=dict(type="list", elements="path", default=[]),
            check_served=dict(type="bool", default=False),
            timeout=dict(type="float", default=5),
        ),
        supports_check_mode=True,
    )
    problem = _x509.host_requirements_problem()
    if problem:
        module.fail_json(msg=problem)
    p = module.params
    certificates = []
    for item in p["certificates"]:
        entry = read_file(item["cert_path"], item["name"])
        if p["check_served"] and item.get("served_address") and not entry.get("error"):
            try:
                got = served(item["served_address"], item.get("server_name"), p["timeout"])
                entry["served_serial"] = _x509.serial_hex(got)
                entry["served"] = _x509.same_serial(entry["serial"], entry["served_serial"])
            except (OSError, ValueError, ssl.SSLError) as exc:
                entry["served"] = False
                entry["error"] = "cannot read the certificate served at %s: %s" % (item["served_address"], exc)
        certificates.append(entry)
    extra = []
    for path in extra_files(p["extra_paths"]):
        entry = read_file(path, path)
        if entry.get("error") and "holds no PEM certificate" in entry["error"]:
            continue
        extra.append(entry)
    module.exit_json(changed=False, certificates=certificates, extra=extra)


if __name__ == "__main__":
    main()

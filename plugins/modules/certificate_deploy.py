#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

DOCUMENTATION = r'''
module: certificate_deploy
short_description: Put an issued certificate in place on a host, test and reload its services, keep the order record
version_added: 0.1.0
description:
  - Runs on the host that uses the certificate. A step of the role C(wotrus.pki.certificate) (after
    M(wotrus.pki.certificate_issue)), not a module to use on its own; its options come from the role's plan.
  - Writes the order record (O(record)) whenever it is given, also when the order is not issued
    yet, so that the next run resumes that order and creates none.
  - With O(certificate), first checks every option that can fail (O(mode), O(key_mode), O(owner), O(group), a
    path that is a directory or whose directory is missing), that the certificate holds the public key of the
    staged key (O(staged_key_path)) or of the key in use (O(key_path)), and that O(chain) verifies (each
    certificate signed by the next; when O(root) is given, the last one signed by it or holding its name and key,
    as a cross certificate of it does). Nothing is written before these pass.
  - The files live in versions, in C(<directory of cert_path>/.wotrus/<name>/), as numbered directories holding
    C(key.pem), C(cert.pem), C(chain.pem) and C(fullchain.pem) (and C(combined.pem), C(cert.p12), C(cert.der) when
    O(combined_path), O(pkcs12_path), O(der_path) are set), and C(current), a link to the live one.
    O(key_path), O(cert_path), O(chain_path), O(fullchain_path), O(combined_path), O(pkcs12_path) and O(der_path)
    are made relative links through C(current) (for example C(www.key -> .wotrus/www/current/key.pem)). Plain files found at those paths (a first
    deployment) are copied into a version first, so that each path keeps reading what it read until the swap.
  - A deployment writes a complete new version (each file fsynced, read back and checked), then swaps
    C(current) to it with one rename. A crash, kill or power cut at any instant leaves the old key and
    certificate or the new ones at the paths, never a mismatch.
  - The combined PEM, the PKCS#12 file and the DER certificate are made on the host from the key there (it never
    leaves the host) and are written in the same version as the key and certificate, so they change together.
  - Then, for each service that reads an output whose content changed (O(services[].files)), runs its C(test)
    command and, when all pass, its C(reload) command (argv lists, no shell); services whose files did not change
    are neither tested nor reloaded. When a test or reload fails, C(current) goes back to the previous version (every
    output of the certificate at once), the new version is removed, the new key stays at O(staged_key_path) (so the
    next run deploys the same order again and buys nothing), and the task fails naming the service and its output.
  - Earlier versions are the backups; O(backup_keep) of them are kept, older ones are removed after a
    successful deployment, with versions a failed or killed run left.
  - Run by the role C(wotrus.pki.certificate) as its deployment step; it can be used on its own.
  - Never returns key material.
author:
  - wotrus.pki contributors (@wotrus)
options:
  name:
    description:
      - The certificate's name, in messages and as the directory of its versions, C(.wotrus/<name>/).
      - Letters, digits, C(.), C(_) and C(-), not starting with C(.).
    type: str
    required: true
  cert_path:
    description:
      - Where the certificate (leaf only) is read by its services; made a link into the versions.
      - The versions are kept in C(.wotrus/<name>/) in its directory.
    type: path
    required: true
  key_path:
    description: Where the private key is read; made a link into the versions (the staged key is copied into a new version).
    type: path
    required: true
  chain_path:
    description: Where the intermediate certificates go (leaf's issuer first, no root). Not written when unset.
    type: path
  fullchain_path:
    description: Where the certificate followed by the chain goes. Not written when unset.
    type: path
  combined_path:
    description:
      - Where the key, the certificate and the chain go in one PEM file (what HAProxy's C(crt) and Postfix's
        C(smtpd_tls_chain_files) read). Mode O(key_mode). Not written when unset. Never shown in a diff.
    type: path
  pkcs12_path:
    description:
      - Where a PKCS#12 file (a Java keystore) of the key, the certificate and the chain goes, protected by
        O(pkcs12_password). Mode O(key_mode). Not written when unset.
      - Needs cryptography 38 or newer on the host.
      - A file in place that opens with the password and holds the same key, certificates, name and encryption is
        kept as it is (PKCS#12 files have random salts, so they are not compared byte for byte).
    type: path
  pkcs12_password:
    description: The PKCS#12 file's password; required with O(pkcs12_path). Never logged.
    type: str
  pkcs12_encryption:
    description:
      - V(modern), PBES2 with AES-256-CBC, PBKDF2-SHA256 and an HMAC-SHA256 integrity check (Java 8u301, 11.0.12
        and newer, OpenSSL 3, current Windows).
      - V(legacy), 3DES with SHA1 and an HMAC-SHA1 check, for older Java and other old readers.
    type: str
    choices: [modern, legacy]
    default: modern
  pkcs12_friendly_name:
    description: The name of the certificate and key in the PKCS#12 file (a Java keystore's alias). Default O(name).
    type: str
  der_path:
    description: Where the certificate goes in DER (binary). Not written when unset.
    type: path
  record_path:
    description: The order record. Default O(cert_path) followed by C(.wotrus.json).
    type: path
  staged_key_path:
    description: The staged key. Default O(key_path) followed by C(.pending).
    type: path
  encrypt_certificate:
    description:
      - The SM2 encryption certificate (PEM) of an SM2 pair; O(certificate) is then the SM2 signing certificate.
        Both certificates, their keys and chains are checked (SM2-with-SM3 signatures and key matches, with the
        OpenSSL 3 command line, as the cryptography library has no SM2) and swapped in the same one rename as every
        other output, so a host has its old pair or the new pair, never one of each.
      - Needs O(encrypt_cert_path) and O(encrypt_key_path). Not with O(pkcs12_path).
    type: str
  encrypt_chain:
    description: The encryption certificate's intermediates (PEM), leaf's issuer first.
    type: str
    default: ''
  encrypt_cert_path:
    description: Where the SM2 encryption certificate is deployed (a link into the store, like O(cert_path)).
    type: path
  encrypt_key_path:
    description:
      - Where the SM2 encryption key is deployed (O(key_mode)). The key is taken from O(encrypt_staged_key_path),
        O(encrypt_key_path) or, when the encryption certificate certifies the signing key (an SM2 order's first
        issue, as the API's Create takes no encryption CSR), the signing key; whichever holds the certificate's key.
    type: path
  encrypt_chain_path:
    description: Where the encryption certificate's chain is deployed.
    type: path
  encrypt_fullchain_path:
    description: Where the encryption certificate followed by its chain is deployed.
    type: path
  encrypt_staged_key_path:
    description: The staged encryption key. Default O(encrypt_key_path) followed by C(.pending).
    type: path
  record:
    description: The order record to keep (from M(wotrus.pki.certificate_issue)). Not written when unset.
    type: dict
  certificate:
    description: The certificate (PEM). When unset only the record is written.
    type: str
  chain:
    description: The intermediates (PEM), leaf's issuer first.
    type: str
    default: ''
  root:
    description: The root the chain must end at (PEM). Not checked when unset.
    type: str
  owner:
    description: Owner of the written files.
    type: str
  group:
    description: Group of the written files.
    type: str
  mode:
    description: Mode of certificate, chain and full chain (octal such as V('0644'), or symbolic).
    type: raw
    default: '0644'
  key_mode:
    description: Mode of the private key and of the order record (octal such as V('0600'), or symbolic).
    type: raw
    default: '0600'
  backup:
    description: Keep earlier versions (up to O(backup_keep)). V(false) keeps none once a deployment succeeded.
    type: bool
    default: true
  refresh:
    description:
      - Without O(certificate), make the files again from the live version's certificate and chain (and the key in
        use). This is how the role adds an output (O(combined_path), O(pkcs12_path), O(der_path)) to a certificate that is
        deployed and not due, with no API call. Only the services that read a file that changed are reloaded.
    type: bool
    default: false
  backup_keep:
    description:
      - How many earlier versions are kept besides the live one; older ones are removed after each successful
        deployment.
    type: int
    default: 3
  services:
    description:
      - What uses the certificate; tested then reloaded, in this order, when a file it reads changed.
      - Presets (O(services[].preset)), each with a config test and a reload; where systemd runs, presets with a unit
        reload it with C(systemctl reload UNIT).
      - V(nginx), C(nginx -t); C(nginx -s reload) (unit C(nginx)).
      - V(apache2), C(apache2ctl configtest); C(apache2ctl graceful).
      - V(haproxy), C(haproxy -c -f /etc/haproxy/haproxy.cfg); C(/etc/init.d/haproxy reload) (unit C(haproxy)).
      - V(postfix), C(postfix check); C(postfix reload).
      - V(systemd), no test; C(systemctl reload-or-restart UNIT) (O(services[].unit) required).
      - V(custom), O(services[].test) and O(services[].reload) (or O(services[].unit) for C(systemctl reload-or-restart UNIT)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The service's name, for messages. Default the preset's.
        type: str
      preset:
        description: The preset; default O(services[].name) when it is a preset's name, else V(custom).
        type: str
        choices: [apache2, custom, haproxy, nginx, postfix, systemd]
      test:
        description: Command (argv) that checks the service's configuration, e.g. C([nginx, -t]); replaces the preset's.
        type: list
        elements: str
      reload:
        description: Command (argv) that makes the service load the new files, e.g. C([nginx, -s, reload]); replaces the preset's.
        type: list
        elements: str
      unit:
        description: The systemd unit (of presets V(nginx), V(haproxy), V(systemd), V(custom)).
        type: str
      files:
        description:
          - The outputs the service reads; it is tested and reloaded only when one of them changed.
          - Default for V(nginx), V(apache2), V(haproxy), V(postfix) the PEM files (C(key), C(cert), C(chain),
            C(fullchain), C(combined)); for V(systemd) and V(custom) every output.
        type: list
        elements: str
        choices: [key, cert, chain, fullchain, combined, pkcs12, der]
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_posix
attributes:
  check_mode:
    support: full
    description: Writes nothing, runs no command, says what would change.
  diff_mode:
    support: full
    description: Shows the certificate before and after (never the key, the combined PEM or the PKCS#12 file).
requirements:
  - Python >= 3.8 on the host
  - cryptography >= 3.4.8 on the host (the distribution's C(python3-cryptography) is enough, as on Ubuntu 22.04, RHEL 9 and Debian 12)
  - cryptography >= 38 on the host for O(pkcs12_path) (Debian 12 has 38.0.4)
seealso:
  - module: wotrus.pki.certificate_status
  - module: wotrus.pki.certificate_issue
'''

EXAMPLES = r'''
- name: Deploy the issued certificate and reload nginx
  wotrus.pki.certificate_deploy:
    name: www
    cert_path: /etc/ssl/wotrus/www.crt
    key_path: /etc/ssl/wotrus/www.key
    fullchain_path: /etc/ssl/wotrus/www.fullchain.pem
    chain_path: /etc/ssl/wotrus/www.chain.pem
    record: "{{ www_issue.record }}"
    certificate: "{{ www_issue.certificate }}"
    chain: "{{ www_issue.chain }}"
    root: "{{ www_issue.root }}"
    services:
      - name: nginx
        test: [nginx, -t]
        reload: [nginx, -s, reload]

- name: One certificate for HAProxy (combined PEM) and Tomcat (PKCS#12)
  wotrus.pki.certificate_deploy:
    name: www
    cert_path: /etc/ssl/wotrus/www.crt
    key_path: /etc/ssl/wotrus/www.key
    combined_path: /etc/haproxy/certs/www.pem
    pkcs12_path: /etc/ssl/wotrus/www.p12
    pkcs12_password: "{{ vault_keystore_password }}"
    record: "{{ www_issue.record }}"
    certificate: "{{ www_issue.certificate }}"
    chain: "{{ www_issue.chain }}"
    services:
      # haproxy -c -f /etc/haproxy/haproxy.cfg, then a reload through systemd
      - name: haproxy
        preset: haproxy
        reload: [systemctl, reload, haproxy]
      # Tomcat reads only the keystore: restarted only when it changed
      - name: tomcat
        preset: systemd
        unit: tomcat10
        files: [pkcs12]
'''

RETURN = r'''
deployed:
  sample: true
  description: Whether new certificate files were put in place.
  type: bool
  returned: success
serial:
  sample: "059B1C2D3E4F5A6B7C8D9E0F1A2B3C4D"
  description:
    - Serial number of the certificate at O(cert_path) after the task, as C(openssl x509 -serial) shows it
      (upper-case hex, a leading zero kept).
  type: str
  returned: when O(certificate) is given
not_after:
  sample: "2027-12-06T23:59:59Z"
  description: Its end of validity (UTC).
  type: str
  returned: when O(certificate) is given
backup_files:
  sample: {"/etc/ssl/wotrus/www.crt": "/etc/ssl/wotrus/.wotrus/www/6/cert.pem"}
  description: For each path whose content was replaced, the file of the previous version that held it.
  type: dict
  returned: success
store:
  description: The directory of the certificate's versions.
  type: str
  returned: when O(certificate) is given
  sample: /etc/ssl/wotrus/.wotrus/www
version:
  description: The live version's directory after the task (null when there is none).
  type: str
  returned: when O(certificate) is given and not in check mode
  sample: /etc/ssl/wotrus/.wotrus/www/7
pruned:
  sample: ["/etc/ssl/wotrus/.wotrus/www/4"]
  description: The version directories removed.
  type: list
  elements: str
  returned: when a deployment succeeded
paths:
  sample: ["/etc/ssl/wotrus/www.crt", "/etc/ssl/wotrus/www.key", "/etc/ssl/wotrus/www.fullchain.pem"]
  description: The configured paths whose content changed (or would change in check mode).
  type: list
  elements: str
  returned: success
reloaded:
  sample: ["nginx"]
  description: The services reloaded (those that read a file that changed).
  type: list
  elements: str
  returned: success
record_changed:
  sample: true
  description: Whether the order record was written.
  type: bool
  returned: success
service:
  sample: haproxy
  description: The service whose test or reload failed (every output of the certificate was put back).
  type: str
  returned: on a failed service test or reload
command:
  sample: ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"]
  description: The command (argv) that failed.
  type: list
  elements: str
  returned: on a failed service test or reload
rc:
  sample: 1
  description: Its exit status.
  type: int
  returned: on a failed service test or reload
stdout:
  sample: ""
  description: Its standard output (the last 2000 characters).
  type: str
  returned: on a failed service test or reload
stderr:
  sample: "[ALERT] config : parsing [/etc/haproxy/haproxy.cfg:12] : unknown keyword 'bnd'"
  description: Its standard error (the last 2000 characters).
  type: str
  returned: on a failed service test or reload
'''

import fcntl
import os
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils import _files
from ansible_collections.wotrus.pki.plugins.module_utils import _services
from ansible_collections.wotrus.pki.plugins.module_utils import _sm2
from ansible_collections.wotrus.pki.plugins.module_utils import _x509
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records

STORE_DIR = role_status.STORE_DIR
CURRENT = "current"
LOCK = ".lock"
KEY = "key.pem"
CERT = "cert.pem"
CHAIN = "chain.pem"
FULLCHAIN = "fullchain.pem"
COMBINED = "combined.pem"
PKCS12 = "cert.p12"
DER = "cert.der"
# The SM2 encryption certificate's files, beside the signing certificate's (KEY, CERT, ...).
ENC_KEY = "encrypt-key.pem"
ENC_CERT = "encrypt-cert.pem"
ENC_CHAIN = "encrypt-chain.pem"
ENC_FULLCHAIN = "encrypt-fullchain.pem"
# The user's options and the file of a version each one links to.
LINKS = (("key_path", KEY), ("cert_path", CERT), ("chain_path", CHAIN), ("fullchain_path", FULLCHAIN),
         ("combined_path", COMBINED), ("pkcs12_path", PKCS12), ("der_path", DER),
         ("encrypt_key_path", ENC_KEY), ("encrypt_cert_path", ENC_CERT), ("encrypt_chain_path", ENC_CHAIN),
         ("encrypt_fullchain_path", ENC_FULLCHAIN))
ENCRYPT_OPTIONS = ("encrypt_key_path", "encrypt_cert_path", "encrypt_chain_path", "encrypt_fullchain_path")
# The files of a version that hold the key: never readable by all, not even as a copy.
SECRET_FILES = (KEY, COMBINED, PKCS12, ENC_KEY)
# The name of each file as a service's ``files`` lists it (_services.OUTPUTS).
OUTPUT_OF = {KEY: "key", CERT: "cert", CHAIN: "chain", FULLCHAIN: "fullchain", COMBINED: "combined",
             PKCS12: "pkcs12", DER: "der", ENC_KEY: "key", ENC_CERT: "cert", ENC_CHAIN: "chain",
             ENC_FULLCHAIN: "fullchain"}


class DeployError(Exception):
    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


def _out(text, limit=2000):
    text = (text or "").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


# -- the X.509 checks (one call site each, so that they move with the X.509 helpers) ---------------
def _load_certs(pem_text):
    return _x509.load_certs((pem_text or "").encode("utf-8") if isinstance(pem_text, str) else pem_text)


def _key_spki(path):
    return _x509.private_key_spki(path)


def _record_bytes(record):
    return records.dumps(record).encode("utf-8")


class Store:
    """``<directory of cert_path>/.wotrus/<name>/``: one numbered directory per version of the
    certificate's files (key.pem, cert.pem, chain.pem, fullchain.pem), and ``current``, a link to
    the live one. The user's paths are links through ``current``, so one rename of ``current``
    swaps key and certificate together."""

    def __init__(self, cert_path, name):
        self.root = role_status.store_root(cert_path, name)
        self.current = os.path.join(self.root, CURRENT)
        self._lock = None

    def exists(self):
        return os.path.isdir(self.root)

    def versions(self):
        if not self.exists():
            return []
        return sorted(int(n) for n in os.listdir(self.root)
                      if n.isdigit() and os.path.isdir(os.path.join(self.root, n)) and not os.path.islink(
                          os.path.join(self.root, n)))

    def live(self):
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        return int(target) if target.isdigit() and os.path.isdir(os.path.join(self.root, target)) else None

    def points_at(self, version):
        try:
            return os.readlink(self.current) == str(version)
        except OSError:
            return False

    def path(self, version, fname=""):
        return os.path.join(self.root, str(version), fname) if fname else os.path.join(self.root, str(version))

    def link_target(self, user_path, fname):
        """What the user's path links to: relative, from its real directory, through ``current``."""
        return os.path.relpath(os.path.join(self.current, fname), os.path.realpath(os.path.dirname(user_path)))

    def is_ours(self, user_path, fname):
        try:
            return os.readlink(user_path) == self.link_target(user_path, fname)
        except OSError:
            return False

    def open(self):
        """Make the store's directories (0755) and hold its lock until the module ends."""
        for directory in (os.path.dirname(self.root), self.root):
            if not os.path.isdir(directory):
                os.mkdir(directory, 0o755)
                os.chmod(directory, 0o755)
                _files.fsync_dir(os.path.dirname(directory))
        self._lock = os.open(os.path.join(self.root, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # released by close(), or by the kernel when the process dies

    def close(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def new_version(self):
        """A new, empty version directory, 0700 until it is complete."""
        number = max(self.versions() + [0]) + 1
        os.mkdir(self.path(number), 0o700)
        return number

    def seal(self, version):
        """Make a complete version readable (its files keep their own modes) and durable."""
        os.chmod(self.path(version), 0o755)
        _files.fsync_dir(self.path(version))
        _files.fsync_dir(self.root)

    def sealed(self, version):
        return stat.S_IMODE(os.stat(self.path(version)).st_mode) == 0o755

    def point(self, version, module):
        """The swap: one rename of a new ``current`` link over the old one."""
        if version is None:
            if os.path.lexists(self.current):
                os.unlink(self.current)
                _files.fsync_dir(self.root)
        else:
            _files.replace_symlink(self.current, str(version), module)

    def remove(self, version):
        shutil.rmtree(self.path(version), ignore_errors=True)

    def prune(self, keep):
        """Keep the live version and the ``keep`` newest below it; remove every other one
        (older backups, and versions above the live one that a failed or killed run left)."""
        live = self.live()
        if live is None:
            return []
        # A version still 0700 was never sealed: a killed run's unfinished one, never live.
        older = [v for v in self.versions() if v < live and self.sealed(v)]
        kept = set(older[-keep:] if keep > 0 else []) | {live}
        removed = [v for v in self.versions() if v not in kept]
        for version in removed:
            self.remove(version)
        for name in os.listdir(self.root):  # temporary links a killed run left
            if name.startswith(_files.TEMP_PREFIX):
                try:
                    os.unlink(os.path.join(self.root, name))
                except OSError:
                    pass
        if removed:
            _files.fsync_dir(self.root)
        return [self.path(v) for v in removed]


class Deployer:
    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.record_path = p["record_path"] or role_status.default_record_path(p["cert_path"])
        self.staged_key_path = p["staged_key_path"] or role_status.default_staged_key_path(p["key_path"])
        self.encrypt_staged_key_path = p["encrypt_staged_key_path"] or (
            role_status.default_staged_key_path(p["encrypt_key_path"]) if p["encrypt_key_path"] else None)
        self.encrypt_staged = False  # the encryption certificate's key is the staged one
        self.keep = p["backup_keep"] if p["backup"] else 0
        self.store = None
        self.previous = None       # the version to go back to
        self.new_version = None    # the version this run made live
        self.swapped = False
        self.committed = False     # the services run on the new files: no roll-back from here on
        self.backups = {}

    # -- checks that can fail, before anything is written ---------------------------------------
    def check_options(self):
        p = self.p
        try:
            self.cert_attrs = _files.file_attrs(p["mode"], p["owner"], p["group"])
            self.key_attrs = _files.file_attrs(p["key_mode"], p["owner"], p["group"], mode_option="key_mode")
            self.record_attrs = _files.FileAttrs(mode=self.key_attrs.mode)
            targets = [("record_path", self.record_path)] if p["record"] is not None else []
            if p["certificate"]:
                targets += [(option, p[option]) for option, dummy in LINKS if p[option]]
            for option, path in targets:
                _files.check_target(path, option)
        except _files.FileError as exc:
            raise DeployError("%s: %s; nothing was changed" % (p["name"], exc.msg), option=exc.option)
        if p["backup_keep"] < 0:
            raise DeployError("%s: backup_keep: must be 0 or more, got %d" % (p["name"], p["backup_keep"]),
                              option="backup_keep")
        if not _name_ok(p["name"]):
            raise DeployError("name: %r cannot name a directory (letters, digits, '.', '_', '-', not starting "
                              "with '.')" % p["name"], option="name")
        if p["pkcs12_path"]:
            if not p["pkcs12_password"]:
                raise DeployError("%s: pkcs12_password: is required with pkcs12_path (the PKCS#12 file's password); "
                                  "nothing was changed" % p["name"], option="pkcs12_password")
            problem = _x509.pkcs12_problem("pkcs12_encryption")
            if problem:
                raise DeployError("%s: %s; nothing was changed" % (p["name"], problem), option="pkcs12_encryption")
        if p["encrypt_certificate"] or any(p[o] for o in ENCRYPT_OPTIONS):
            missing = [o for o in ("encrypt_cert_path", "encrypt_key_path") if not p[o]]
            if missing:
                raise DeployError("%s: %s: is required for an SM2 pair (with encrypt_certificate); nothing was "
                                  "changed" % (p["name"], missing[0]), option=missing[0])
            if p["certificate"] and not p["encrypt_certificate"]:
                raise DeployError("%s: encrypt_certificate: is required with encrypt_cert_path (the SM2 encryption "
                                  "certificate of the pair); nothing was changed" % p["name"],
                                  option="encrypt_certificate")
            if p["pkcs12_path"]:
                raise DeployError("%s: pkcs12_path: an SM2 pair cannot be written as PKCS#12 here (the cryptography "
                                  "library has no SM2); nothing was changed" % p["name"], option="pkcs12_path")
        try:
            self.service_list = _services.check_all(p["services"])
        except _services.ServiceError as exc:
            raise DeployError("%s: %s; nothing was changed" % (p["name"], exc.msg), option=exc.option)

    def verify(self):
        p = self.p
        leaves = _load_certs(p["certificate"])
        if not leaves:
            raise DeployError("%s: the certificate given is not PEM" % p["name"])
        leaf = leaves[0]
        chain = _load_certs(p["chain"])
        try:
            leaf_spki = _x509.public_key_of(leaf)
        except ValueError as exc:  # an SM2 certificate without an OpenSSL 3 here
            raise DeployError("%s: the certificate's key cannot be read: %s; nothing was changed" % (p["name"], exc))
        if os.path.exists(self.staged_key_path) and _key_spki(self.staged_key_path) == leaf_spki:
            key_source = self.staged_key_path
        elif _key_spki(p["key_path"]) == leaf_spki:
            key_source = p["key_path"]
        else:
            raise DeployError(
                "%s: the certificate (serial %s) does not match the staged key %s nor the key %s; nothing was "
                "changed" % (p["name"], _x509.serial_hex(leaf), self.staged_key_path, p["key_path"]))
        roots = _load_certs(p["root"]) if p["root"] else None
        key, files = self.checked_files("the certificate", leaf, chain, key_source, roots, (KEY, CERT, CHAIN, FULLCHAIN))
        # The other outputs, rendered here from the key on this host; each only when its path is set.
        if p["combined_path"]:
            files[COMBINED] = (_x509.combined_pem(key, leaf, chain), self.key_attrs)
        if p["der_path"]:
            files[DER] = (_x509.to_der(leaf), self.cert_attrs)
        if p["pkcs12_path"]:
            try:
                data = _x509.pkcs12_bytes(key, leaf, chain, p["pkcs12_password"], p["pkcs12_encryption"],
                                          p["pkcs12_friendly_name"] or p["name"], existing=_files.read(p["pkcs12_path"]))
            except ValueError as exc:
                raise DeployError("%s: pkcs12_path: cannot make the PKCS#12 file: %s; nothing was changed"
                                  % (p["name"], exc), option="pkcs12_path")
            files[PKCS12] = (data, self.key_attrs)
        if p["encrypt_certificate"]:
            files.update(self.verify_encrypt(leaf, key_source, roots))
        return leaf, files, key_source == self.staged_key_path

    def verify_encrypt(self, sign_leaf, sign_key_source, roots):
        """The SM2 encryption certificate: SM2, its key found (staged, deployed, or the signing key), its
        chain verified, not expired. Returns its files for the version."""
        p = self.p
        leaves = _load_certs(p["encrypt_certificate"])
        if not leaves:
            raise DeployError("%s: encrypt_certificate: is not PEM; nothing was changed" % p["name"],
                              option="encrypt_certificate")
        leaf = leaves[0]
        chain = _load_certs(p["encrypt_chain"])
        pems = [_x509.to_pem(c) for c in (sign_leaf, leaf)]
        if not all(_sm2.is_sm2(pem) for pem in pems):
            raise DeployError("%s: encrypt_certificate: an SM2 pair is two SM2 certificates (certificate and "
                              "encrypt_certificate); nothing was changed" % p["name"], option="encrypt_certificate")
        try:
            leaf_spki = _x509.public_key_of(leaf)
        except ValueError as exc:
            raise DeployError("%s: the encryption certificate's key cannot be read: %s; nothing was changed"
                              % (p["name"], exc))
        candidates = [self.encrypt_staged_key_path, p["encrypt_key_path"], sign_key_source]
        key_source = next((path for path in candidates if path and os.path.exists(path)
                           and _key_spki(path) == leaf_spki), None)
        if key_source is None:
            raise DeployError(
                "%s: the encryption certificate (serial %s) does not match the staged key %s, the key %s nor the "
                "signing key; nothing was changed"
                % (p["name"], _x509.serial_hex(leaf), self.encrypt_staged_key_path, p["encrypt_key_path"]))
        self.encrypt_staged = key_source == self.encrypt_staged_key_path
        return self.checked_files("the encryption certificate", leaf, chain, key_source, roots,
                                  (ENC_KEY, ENC_CERT, ENC_CHAIN, ENC_FULLCHAIN))[1]

    def checked_files(self, what, leaf, chain, key_source, roots, kinds):
        """One half of a version (the certificate, or an SM2 pair's encryption certificate): its chain
        verified, not expired, its key read. Returns the key and {kind: (bytes, attrs)} for ``kinds``
        (key, certificate, chain, fullchain)."""
        name = self.p["name"]
        try:
            # The same check as wotrus_certificate's chain_complete: each certificate signed by the next,
            # the top signed by a root or certifying a root's name and key (a cross certificate of it).
            _x509.check_path(leaf, chain, roots)
        except _x509.ChainError as exc:
            prefix = "" if what == "the certificate" else what + ": "
            raise DeployError("%s: %s%s; nothing was changed" % (name, prefix, exc))
        if _x509.not_after(leaf) <= role_status.utc_now():
            raise DeployError("%s: %s (serial %s) expired at %s; nothing was changed"
                              % (name, what, _x509.serial_hex(leaf), role_status.iso(_x509.not_after(leaf))))
        key = _files.read(key_source)
        if key is None:
            raise DeployError("%s: the key %s cannot be read; nothing was changed" % (name, key_source))
        cert_pem = _x509.to_pem(leaf).encode("ascii")
        chain_pem = "".join(_x509.to_pem(c) for c in chain).encode("ascii")
        key_kind, cert_kind, chain_kind, fullchain_kind = kinds
        return key, {key_kind: (key, self.key_attrs), cert_kind: (cert_pem, self.cert_attrs),
                     chain_kind: (chain_pem, self.cert_attrs), fullchain_kind: (cert_pem + chain_pem, self.cert_attrs)}

    def check_version(self, version, leaf):
        """Read the new version back from disk: key matches certificate, chain verifies."""
        certs = _load_certs(_files.read(self.store.path(version, CERT)))
        chain = _load_certs(_files.read(self.store.path(version, CHAIN)))
        if not certs or _x509.serial_hex(certs[0]) != _x509.serial_hex(leaf) or \
                _key_spki(self.store.path(version, KEY)) != _x509.public_key_of(certs[0]):
            raise DeployError("%s: the files written to %s do not read back as the certificate and its key"
                              % (self.p["name"], self.store.path(version)))
        roots = _load_certs(self.p["root"]) if self.p["root"] else None
        try:
            _x509.check_path(certs[0], chain, roots)
        except _x509.ChainError as exc:
            raise DeployError("%s: the chain written to %s: %s" % (self.p["name"], self.store.path(version), exc))
        if self.p["encrypt_certificate"]:
            enc = _load_certs(_files.read(self.store.path(version, ENC_CERT)))
            enc_chain = _load_certs(self.p["encrypt_chain"])
            if not enc or _key_spki(self.store.path(version, ENC_KEY)) != _x509.public_key_of(enc[0]):
                raise DeployError("%s: the files written to %s do not read back as the encryption certificate and "
                                  "its key" % (self.p["name"], self.store.path(version)))
            try:
                _x509.check_path(enc[0], enc_chain, roots)
            except _x509.ChainError as exc:
                raise DeployError("%s: the encryption certificate written to %s: %s"
                                  % (self.p["name"], self.store.path(version), exc))
        if self.p["pkcs12_path"]:
            key = _x509.serialization.load_pem_private_key(_files.read(self.store.path(version, KEY)), None)
            if not _x509.pkcs12_holds(_files.read(self.store.path(version, PKCS12)),
                                      self.p["pkcs12_password"].encode("utf-8"), key, certs[0], chain,
                                      (self.p["pkcs12_friendly_name"] or self.p["name"]).encode("utf-8"),
                                      self.p["pkcs12_encryption"]):
                raise DeployError("%s: the PKCS#12 file written to %s does not open with the password as the key, "
                                  "certificate and chain" % (self.p["name"], self.store.path(version)))

    # -- the files --------------------------------------------------------------------------------
    def links(self):
        """(option, user path, file of a version) of every configured path."""
        return [(option, self.p[option], fname) for option, fname in LINKS if self.p[option]]

    def up_to_date(self, files):
        """Every user path is a link of the store and the live version holds these bytes."""
        live = self.store.live()
        if live is None or not all(self.store.is_ours(path, fname) for dummy, path, fname in self.links()):
            return False
        return all(_files.read(self.store.path(live, fname)) == data for fname, (data, dummy) in files.items())

    def migrate(self):
        """Make every user path a link through ``current`` while it keeps reading what it read:
        copy what the paths hold now into a version, point ``current`` at it, then replace each
        path that is not a link of the store by one (each step shows the same bytes)."""
        todo = [(path, fname) for dummy, path, fname in self.links() if not self.store.is_ours(path, fname)]
        if not todo:
            return
        held = []
        for dummy, path, fname in self.links():
            data = _files.read(path)
            if data is not None:
                st = os.stat(path)
                mode = stat.S_IMODE(st.st_mode) & (~0o007 if fname in SECRET_FILES else 0o7777)  # never for all
                held.append((fname, data, _files.FileAttrs(mode=mode, uid=st.st_uid, gid=st.st_gid)))
        if held:
            snapshot = self.store.new_version()
            for fname, data, attrs in held:
                _files.write_atomic(self.store.path(snapshot, fname), data, attrs, self.module)
            self.store.seal(snapshot)
            self.store.point(snapshot, self.module)
        for path, fname in todo:
            _files.replace_symlink(path, self.store.link_target(path, fname), self.module)

    def put_in_place(self, leaf, files):
        """Migrate, write a new version completely, verify it, then swap ``current`` to it."""
        self.store.open()
        self.migrate()
        self.previous = self.store.live()
        version = self.store.new_version()
        self.new_version = version
        for fname, (data, attrs) in files.items():
            _files.write_atomic(self.store.path(version, fname), data, attrs, self.module)
        self.check_version(version, leaf)
        self.store.seal(version)
        self.store.point(version, self.module)
        self.swapped = True

    def roll_back(self):
        """Point ``current`` back at the previous version; drop the new one. Returns errors."""
        errors = []
        if self.store is None:
            return errors
        # Read the link, not a flag: the swap's rename may have happened though a later step failed.
        if self.swapped or (self.new_version is not None and self.store.points_at(self.new_version)):
            try:
                self.store.point(self.previous, self.module)
                self.swapped = False
            except (OSError, IOError) as exc:
                errors.append("%s: %s" % (self.store.current, exc))
        if self.new_version is not None and not self.store.points_at(self.new_version):
            self.store.remove(self.new_version)
            self.new_version = None
        return errors

    def fix_attrs(self, files):
        """Mode, owner, group of the live files, changed in place (the content stays)."""
        changed = False
        live = self.store.live()
        for fname, (dummy, attrs) in files.items():
            path = self.store.path(live, fname)
            if not os.path.exists(path):
                continue
            st = os.stat(path)
            if attrs.uid is not None and st.st_uid != attrs.uid or attrs.gid is not None and st.st_gid != attrs.gid:
                changed = True
                if not self.module.check_mode:
                    os.chown(path, attrs.uid if attrs.uid is not None else -1,
                             attrs.gid if attrs.gid is not None else -1)
            if attrs.mode is not None and stat.S_IMODE(st.st_mode) != attrs.mode:
                changed = True
                if not self.module.check_mode:
                    os.chmod(path, attrs.mode)
        return changed

    # -- services -----------------------------------------------------------------------------------
    def services(self, changed):
        """Test, then reload, each service that reads one of the ``changed`` outputs (None: all).
        Any failed test or reload puts every output of the certificate back (one rename)."""
        systemd = _services.systemd_running()
        svcs = [(s,) + _services.commands(s, systemd) for s in self.service_list
                if changed is None or _services.affected(s, changed)]
        for svc, test, dummy in svcs:
            if test:
                rc, out, err = self.module.run_command(test)
                if rc != 0:
                    self.fail_service(svc, "test", test, rc, out, err, svcs)
        reloaded = []
        for svc, dummy, reload in svcs:
            rc, out, err = self.module.run_command(reload)
            if rc != 0:
                self.fail_service(svc, "reload", reload, rc, out, err, svcs)
            reloaded.append(svc["name"])
        return reloaded

    def fail_service(self, svc, what, argv, rc, out, err, svcs):
        errors = self.roll_back()
        restored = "the previous files are back in place (every output of the certificate)" if not errors else \
            "putting the previous files back FAILED (%s)" % "; ".join(errors)
        if what == "reload":
            # The service may have half-loaded the new files: reload them on the old ones.
            for dummy, dummy2, reload in svcs:
                self.module.run_command(reload)
        raise DeployError(
            "%s: the %s of service %s failed (%s exited %d): %s -- the new certificate was NOT deployed, %s; "
            "the new key is kept at %s and the next run deploys the same order"
            % (self.p["name"], what, svc["name"], " ".join(argv), rc, _out(err or out), restored,
               self.staged_key_path),
            service=svc["name"], command=argv, rc=rc, stdout=_out(out), stderr=_out(err))

    # -- the record ---------------------------------------------------------------------------------
    def write_record(self, record):
        try:
            done = _files.ensure_file(self.module, self.record_path, _record_bytes(record), self.record_attrs,
                                      option="record_path")
        except _files.FileError as exc:
            raise DeployError("%s: %s" % (self.p["name"], exc.msg), option=exc.option)
        return done["changed"]

    def run(self):
        try:
            return self._run_and_report()
        finally:
            if self.store is not None:
                self.store.close()

    def _run_and_report(self):
        record = dict(self.p["record"]) if self.p["record"] is not None else None
        try:
            if self.p["refresh"] and not self.p["certificate"]:
                self.take_live()
            self.check_options()
            return self._run(record)
        except DeployError as exc:
            if self.committed:
                raise self.after_commit(exc.msg)
            # Keep the order (not deployed) on record: the next run resumes it.
            if record is not None and not self.module.check_mode and exc.details.get("option") is None:
                try:
                    self.write_record(record)
                except (DeployError, OSError, IOError):
                    pass
            raise
        except (OSError, IOError) as exc:
            if self.committed:
                raise self.after_commit(str(exc))
            errors = self.roll_back()
            raise DeployError("%s: could not put the new files in place (%s); %s" % (
                self.p["name"], exc, "the previous files are back" if not errors else
                "putting the previous files back FAILED (%s)" % "; ".join(errors)))

    def take_live(self):
        """O(refresh): the certificate and chain of the live version, to make the outputs again."""
        store = Store(self.p["cert_path"], self.p["name"])
        live = store.live()
        cert = _files.read(store.path(live, CERT)) if live is not None else None
        if not cert:
            raise DeployError("%s: refresh: no deployed version of the certificate in %s; nothing was changed"
                              % (self.p["name"], store.root), option="refresh")
        self.p["certificate"] = cert.decode("ascii", "replace")
        self.p["chain"] = (_files.read(store.path(live, CHAIN)) or b"").decode("ascii", "replace")
        enc = _files.read(store.path(live, ENC_CERT))
        if enc and self.p["encrypt_cert_path"]:
            self.p["encrypt_certificate"] = enc.decode("ascii", "replace")
            self.p["encrypt_chain"] = (_files.read(store.path(live, ENC_CHAIN)) or b"").decode("ascii", "replace")
            self.encrypt_staged_key_path = None

    def after_commit(self, what):
        """A failure once the services run on the new files: they stay (no roll-back of a working
        service); the record still names the order as not deployed, so the next run finishes."""
        return DeployError("%s: the new certificate is in place and the services were reloaded, but then: %s; "
                           "the next run finishes (record, clean-up)" % (self.p["name"], what))

    def _run(self, record):
        p = self.p
        check = self.module.check_mode
        result = dict(changed=False, deployed=False, backup_files={}, paths=[], reloaded=[], record_changed=False)
        if not p["certificate"]:
            if record is not None:
                result["record_changed"] = result["changed"] = self.write_record(record)
            return result
        leaf, files, staged = self.verify()
        serial = _x509.serial_hex(leaf)
        self.store = Store(p["cert_path"], p["name"])
        result.update(serial=serial, not_after=role_status.iso(_x509.not_after(leaf)), store=self.store.root)
        before = _files.read(p["cert_path"])
        result["diff"] = dict(before_header=p["cert_path"], after_header=p["cert_path"],
                              before=(before or b"").decode("utf-8", "replace"), after=files[CERT][0].decode("ascii"))
        current = self.up_to_date(files)
        # A run killed after the swap, before the record said so: the files are live, but the
        # services were maybe not reloaded and the record still says the old serial.
        unfinished = current and record is not None and not _x509.same_serial(record.get("deployed_serial"), serial)
        changed_outputs = None  # not known (a run killed after the swap): every service
        if not current or unfinished:
            result["changed"] = result["deployed"] = True
            changed_links = [(path, fname) for dummy, path, fname in self.links() if _files.read(path) != files[fname][0]]
            result["paths"] = [path for path, fname in changed_links]
            if not unfinished:
                changed_outputs = set(OUTPUT_OF[fname] for path, fname in changed_links)
        if check:
            result["changed"] = result["changed"] or (current and self.fix_attrs(files)) or bool(self.leftovers(staged))
            if record is not None:
                result["changed"] = self.write_record(self.deployed_record(record, serial, result)) or \
                    result["changed"]
            return result
        if not current:
            if record is not None:
                self.write_record(record)  # the order, not deployed yet: a crash from here on resumes it
            self.put_in_place(leaf, files)
        elif unfinished:
            self.store.open()
            self.new_version = None
            older = [v for v in self.store.versions() if v < self.store.live() and self.store.sealed(v)]
            self.previous, self.swapped = (older[-1] if older else None), True
        else:
            self.store.open()
            result["changed"] = self.fix_attrs(files)
        if result["deployed"]:
            result["reloaded"] = self.services(changed_outputs)
            self.committed = True
        if record is not None:
            result["record_changed"] = self.write_record(self.deployed_record(record, serial, result))
            result["changed"] = result["changed"] or result["record_changed"]
        # The staged key once its certificate is live (also one that a run killed before this step left),
        # and the CSR: the order they were for is deployed.
        for path in self.leftovers(staged):
            os.unlink(path)
            _files.fsync_dir(os.path.dirname(path))
            result["changed"] = True
        if result["deployed"]:
            result["pruned"] = self.store.prune(self.keep)
            if self.previous is not None and os.path.isdir(self.store.path(self.previous)):
                for dummy, path, fname in self.links():
                    old = self.store.path(self.previous, fname)
                    if os.path.exists(old) and path in result["paths"]:
                        self.backups[path] = old
        result["backup_files"] = dict(self.backups)
        result["version"] = self.store.path(self.store.live()) if self.store.live() is not None else None
        return result

    def leftovers(self, staged):
        """The staged key (when it is the certificate's, so live after this run) and the CSR; the same of
        an SM2 pair's encryption key."""
        paths = [self.staged_key_path if staged else None, role_status.staged_csr_path(self.staged_key_path)]
        if self.p["encrypt_certificate"] and self.encrypt_staged_key_path:
            paths += [self.encrypt_staged_key_path if self.encrypt_staged else None,
                      role_status.staged_csr_path(self.encrypt_staged_key_path)]
        return [path for path in paths if path and os.path.lexists(path)]

    @staticmethod
    def deployed_record(record, serial, result):
        record = dict(record)
        if not _x509.same_serial(record.get("deployed_serial"), serial):
            record.update(deployed_order_id=record.get("order_id"), deployed_serial=serial,
                          deployed_not_after=result["not_after"], deployed_at=role_status.iso(role_status.utc_now()))
        else:
            record["deployed_order_id"] = record.get("order_id")
        return record


def _name_ok(name):
    return bool(name) and not name.startswith(".") and all(c.isalnum() or c in "._-" for c in name) and \
        name not in (CURRENT, LOCK)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cert_path=dict(type="path", required=True),
            key_path=dict(type="path", required=True),
            chain_path=dict(type="path"),
            fullchain_path=dict(type="path"),
            combined_path=dict(type="path"),
            pkcs12_path=dict(type="path"),
            der_path=dict(type="path"),
            pkcs12_password=dict(type="str", no_log=True),
            pkcs12_encryption=dict(type="str", default="modern", choices=list(_x509.PKCS12_ENCRYPTIONS)),
            pkcs12_friendly_name=dict(type="str"),
            record_path=dict(type="path"),
            staged_key_path=dict(type="path"),
            encrypt_certificate=dict(type="str"),
            encrypt_chain=dict(type="str", default=""),
            encrypt_cert_path=dict(type="path"),
            encrypt_key_path=dict(type="path"),
            encrypt_chain_path=dict(type="path"),
            encrypt_fullchain_path=dict(type="path"),
            encrypt_staged_key_path=dict(type="path"),
            record=dict(type="dict"),
            certificate=dict(type="str"),
            chain=dict(type="str", default=""),
            root=dict(type="str"),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0644"),
            key_mode=dict(type="raw", default="0600", no_log=False),
            backup=dict(type="bool", default=True),
            backup_keep=dict(type="int", default=3),
            refresh=dict(type="bool", default=False),
            services=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str"),
                preset=dict(type="str", choices=sorted(_services.PRESETS)),
                test=dict(type="list", elements="str"),
                reload=dict(type="list", elements="str"),
                unit=dict(type="str"),
                files=dict(type="list", elements="str", choices=list(_services.OUTPUTS)),
            )),
        ),
        supports_check_mode=True,
    )
    problem = _x509.host_requirements_problem()
    if problem:
        module.fail_json(msg=problem)
    deployer = Deployer(module)
    try:
        result = deployer.run()
    except DeployError as exc:
        module.fail_json(msg=exc.msg, backup_files=dict(deployer.backups), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: certificate_deploy
short_description: Put an issued certificate in place on a host, test and reload its services, keep the order record
version_added: 0.1.0
description:
  - Runs on the host that uses the certificate. A step of the role M(wotrus.pki.certificate) (after
    M(wotrus.pki.certificate_issue)), not a module to use on its own; its options come from the role's plan.
  - Writes the order record (O(record)) whenever it is given, also when the order is not issued
    yet, so that the next run resumes that order and creates none.
  - With O(certificate), checks that the certificate holds the public key of the staged key
    (O(staged_key_path)) or of the key in use (O(key_path)), and that O(chain) verifies
    (each certificate signed by the next; when O(root) is given, the last one signed by it or holding its
    name and key, as a cross certificate of it does). Only then it
    stages certificate, chain and full chain next to their targets, keeps a timestamped backup of
    every file it replaces, and renames the new files into place (a staged key last). A failure
    half way puts every file back.
  - Then, for each service of the certificate, runs its C(test) command and, when all pass, its
    C(reload) command (argv lists, no shell). When a test or reload fails, the previous files are
    put back, the new key goes back to O(staged_key_path) (so the next run deploys the same
    order again and buys nothing), and the task fails naming the service and its output.
  - Never returns key material.
author:
  - wotrus.pki contributors (@wotrus)
options:
  name:
    description: The certificate's name (used in messages).
    type: str
    required: true
  cert_path:
    description: Where the certificate (leaf only) goes.
    type: path
    required: true
  key_path:
    description: Where the private key is (and where a staged key is moved to).
    type: path
    required: true
  chain_path:
    description: Where the intermediate certificates go (leaf's issuer first, no root). Not written when unset.
    type: path
  fullchain_path:
    description: Where the certificate followed by the chain goes. Not written when unset.
    type: path
  record_path:
    description: The order record. Default O(cert_path) followed by C(.wotrus.json).
    type: path
  staged_key_path:
    description: The staged key. Default O(key_path) followed by C(.pending).
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
    description: Mode of certificate, chain and full chain.
    type: raw
    default: '0644'
  key_mode:
    description: Mode of the private key and of the order record.
    type: raw
    default: '0600'
  backup:
    description: Keep a timestamped copy of each replaced file (also of the replaced key, mode 0600).
    type: bool
    default: true
  services:
    description: What uses the certificate; tested and reloaded after a change, in this order.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The service's name, for messages.
        type: str
        required: true
      test:
        description: Command (argv) that checks the service's configuration, e.g. C([nginx, -t]).
        type: list
        elements: str
      reload:
        description: Command (argv) that makes the service load the new files, e.g. C([nginx, -s, reload]).
        type: list
        elements: str
      unit:
        description: A systemd unit; when O(services[].reload) is unset, C(systemctl reload UNIT) is run.
        type: str
attributes:
  check_mode:
    support: full
    description: Writes nothing, runs no command, says what would change.
  diff_mode:
    support: full
    description: Shows the certificate before and after.
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
    record: "{{ issued.record }}"
    certificate: "{{ issued.certificate }}"
    chain: "{{ issued.chain }}"
    root: "{{ issued.root }}"
    services:
      - name: nginx
        test: [nginx, -t]
        reload: [nginx, -s, reload]
'''

RETURN = r'''
deployed:
  description: Whether new certificate files were put in place.
  type: bool
  returned: success
serial:
  description: Serial number (hex) of the certificate at O(cert_path) after the task.
  type: str
  returned: when O(certificate) is given
not_after:
  description: Its end of validity (UTC).
  type: str
  returned: when O(certificate) is given
backup_files:
  description: Target path to backup path, for each replaced file.
  type: dict
  returned: success
paths:
  description: The files written.
  type: list
  elements: str
  returned: success
reloaded:
  description: The services reloaded.
  type: list
  elements: str
  returned: success
record_changed:
  description: Whether the order record was written.
  type: bool
  returned: success
'''

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import chain as wchain


class DeployError(Exception):
    def __init__(self, msg, **details):
        super(DeployError, self).__init__(msg)
        self.msg = msg
        self.details = details


def _mode(module, value):
    if value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        module.fail_json(msg="mode %r is not an octal mode such as '0644'" % value)


def _out(text, limit=2000):
    text = (text or "").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


class Deployer(object):
    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.record_path = p["record_path"] or role_status.default_record_path(p["cert_path"])
        self.staged_key_path = p["staged_key_path"] or role_status.default_staged_key_path(p["key_path"])
        self.mode = _mode(module, p["mode"])
        self.key_mode = _mode(module, p["key_mode"])
        self.backups = {}
        self.swapped = []  # (target, backup or None)
        self.key_moved = False

    # -- checks ---------------------------------------------------------------
    def verify(self):
        p = self.p
        leaves = role_status.load_certs(p["certificate"].encode("utf-8"))
        if not leaves:
            raise DeployError("%s: the certificate given is not PEM" % p["name"])
        leaf = leaves[0]
        chain = role_status.load_certs((p["chain"] or "").encode("utf-8"))
        leaf_spki = role_status.spki(leaf)
        use_staged = False
        if os.path.exists(self.staged_key_path) and role_status.private_key_spki(self.staged_key_path) == leaf_spki:
            use_staged = True
        elif role_status.private_key_spki(p["key_path"]) != leaf_spki:
            raise DeployError(
                "%s: the certificate (serial %s) does not match the staged key %s nor the key %s; nothing was "
                "changed" % (p["name"], role_status.serial_hex(leaf), self.staged_key_path, p["key_path"]))
        roots = None
        if p["root"]:
            roots = role_status.load_certs(p["root"].encode("utf-8"))
        try:
            # The same check as wotrus_certificate's chain_complete: each certificate signed by the next,
            # the top signed by a root or certifying a root's name and key (a cross certificate of it).
            wchain.check_path(leaf, chain, roots)
        except wchain.ChainError as exc:
            raise DeployError("%s: %s; nothing was changed" % (p["name"], exc))
        now = role_status.utc_now()
        if role_status.not_after(leaf) <= now:
            raise DeployError("%s: the certificate (serial %s) expired at %s; nothing was changed"
                              % (p["name"], role_status.serial_hex(leaf), role_status.iso(role_status.not_after(leaf))))
        return leaf, chain, use_staged

    # -- files ------------------------------------------------------------------
    def plan(self, leaf, chain, use_staged):
        p = self.p
        cert_pem = wchain.to_pem(leaf).encode("ascii")
        chain_pem = "".join(wchain.to_pem(c) for c in chain).encode("ascii")
        files = [(p["cert_path"], cert_pem)]
        if p["chain_path"]:
            files.append((p["chain_path"], chain_pem))
        if p["fullchain_path"]:
            files.append((p["fullchain_path"], cert_pem + chain_pem))
        todo = [(path, data) for path, data in files if role_status.read_bytes(path) != data]
        return todo, use_staged

    def _backup(self, path):
        if path in self.backups or not os.path.exists(path):
            return self.backups.get(path)
        try:
            self.backups[path] = self.module.backup_local(path)
        except Exception as exc:  # pylint: disable=broad-except  # backup_local raises a bare Exception
            raise DeployError("%s: could not back up %s (%s); nothing was changed"
                              % (self.p["name"], path, to_native(exc.__cause__ or exc)))
        if path == self.p["key_path"] and self.backups[path]:
            # The copy keeps the old key's mode, which may be looser: a key backup is 0600.
            os.chmod(self.backups[path], 0o600)
        return self.backups[path]

    def _attrs(self, path, mode, changed=False):
        m = self.module
        changed = m.set_owner_if_different(path, self.p["owner"], changed)
        changed = m.set_group_if_different(path, self.p["group"], changed)
        return m.set_mode_if_different(path, mode, changed)

    def swap(self, todo, use_staged):
        """Stage, back up and rename into place. Undo everything on failure."""
        staged = []
        try:
            for path, data in todo:
                directory = os.path.dirname(path)
                if not os.path.isdir(directory):
                    raise DeployError("%s: directory %s does not exist" % (self.p["name"], directory))
                fd, tmp = tempfile.mkstemp(prefix=".wotrus-", dir=directory)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                staged.append((path, tmp))
                self._attrs(tmp, self.mode)
            if use_staged:
                self._attrs(self.staged_key_path, self.key_mode)
            for path, dummy in staged:
                self._backup(path)
            if use_staged:
                self._backup(self.p["key_path"])
            for path, tmp in staged:
                os.rename(tmp, path)
                self.swapped.append(path)
            if use_staged:
                os.rename(self.staged_key_path, self.p["key_path"])
                self.key_moved = True
        except (OSError, IOError, DeployError) as exc:
            for dummy, tmp in staged:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self.restore()
            if isinstance(exc, DeployError):
                raise
            raise DeployError("%s: could not put the new files in place (%s); the previous files are back"
                              % (self.p["name"], to_native(exc)))

    def restore(self):
        """Put the previous files back; a moved key goes back to the staged path."""
        errors = []
        if self.key_moved:
            try:
                os.rename(self.p["key_path"], self.staged_key_path)
                self.key_moved = False
                self._put_back(self.p["key_path"])
            except (OSError, IOError) as exc:
                errors.append("%s: %s" % (self.p["key_path"], to_native(exc)))
        for path in reversed(self.swapped):
            try:
                self._put_back(path)
            except (OSError, IOError) as exc:
                errors.append("%s: %s" % (path, to_native(exc)))
        self.swapped = []
        return errors

    def _put_back(self, path):
        backup = self.backups.get(path)
        if backup is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        fd, tmp = tempfile.mkstemp(prefix=".wotrus-", dir=os.path.dirname(path))
        os.close(fd)
        shutil.copy2(backup, tmp)
        os.rename(tmp, path)

    # -- services ---------------------------------------------------------------
    def services(self):
        reloaded = []
        svcs = self.p["services"] or []
        for svc in svcs:
            if svc.get("test"):
                rc, out, err = self.module.run_command(svc["test"])
                if rc != 0:
                    self.fail_service(svc, "test", svc["test"], rc, out, err)
        for svc in svcs:
            argv = svc.get("reload") or (["systemctl", "reload", svc["unit"]] if svc.get("unit") else None)
            if argv:
                rc, out, err = self.module.run_command(argv)
                if rc != 0:
                    self.fail_service(svc, "reload", argv, rc, out, err)
                reloaded.append(svc["name"])
        return reloaded

    def fail_service(self, svc, what, argv, rc, out, err):
        errors = self.restore()
        restored = "the previous files are back in place" if not errors else \
            "putting the previous files back FAILED (%s)" % "; ".join(errors)
        if what == "reload":
            # The service may have half-loaded the new files: reload it on the old ones.
            for s in self.p["services"] or []:
                argv2 = s.get("reload") or (["systemctl", "reload", s["unit"]] if s.get("unit") else None)
                if argv2:
                    self.module.run_command(argv2)
        raise DeployError(
            "%s: the %s of service %s failed (%s exited %d): %s -- the new certificate was NOT deployed, %s; "
            "the new key is kept at %s and the next run deploys the same order"
            % (self.p["name"], what, svc["name"], " ".join(argv), rc, _out(err or out), restored,
               self.staged_key_path),
            service=svc["name"], command=argv, rc=rc, stdout=_out(out), stderr=_out(err))

    # -- the record ---------------------------------------------------------------
    def write_record(self, record):
        data = records.dumps(record).encode("utf-8")
        if role_status.read_bytes(self.record_path) == data:
            return False
        if self.module.check_mode:
            return True
        directory = os.path.dirname(self.record_path)
        if not os.path.isdir(directory):
            raise DeployError("%s: directory %s of the order record does not exist" % (self.p["name"], directory))
        fd, tmp = tempfile.mkstemp(prefix=".wotrus-", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, self.key_mode)
        os.rename(tmp, self.record_path)
        return True

    def run(self):
        record = dict(self.p["record"]) if self.p["record"] is not None else None
        try:
            return self._run(record)
        except DeployError:
            # Keep the order (not deployed) on record: the next run resumes it.
            if record is not None and not self.module.check_mode:
                try:
                    self.write_record(record)
                except (DeployError, OSError, IOError):
                    pass
            raise

    def _run(self, record):
        p = self.p
        result = dict(changed=False, deployed=False, backup_files={}, paths=[], reloaded=[], record_changed=False)
        if p["certificate"]:
            leaf, chain, use_staged = self.verify()
            todo, use_staged = self.plan(leaf, chain, use_staged)
            result.update(serial=role_status.serial_hex(leaf), not_after=role_status.iso(role_status.not_after(leaf)))
            before = role_status.read_bytes(p["cert_path"])
            result["diff"] = dict(before_header=p["cert_path"], after_header=p["cert_path"],
                                  before=(before or b"").decode("utf-8", "replace"),
                                  after=wchain.to_pem(leaf))
            if todo or use_staged:
                result["changed"] = result["deployed"] = True
                result["paths"] = [path for path, dummy in todo] + ([p["key_path"]] if use_staged else [])
                if not self.module.check_mode:
                    self.swap(todo, use_staged)
                    result["reloaded"] = self.services()
                    result["backup_files"] = dict(self.backups)
                    if not p["backup"]:
                        for b in self.backups.values():
                            if b and os.path.exists(b):
                                os.unlink(b)
                        result["backup_files"] = {}
            if not self.module.check_mode:
                for path in [x for x in (p["cert_path"], p["chain_path"], p["fullchain_path"]) if x]:
                    result["changed"] = self._attrs(path, self.mode, result["changed"])
                result["changed"] = self._attrs(p["key_path"], self.key_mode, result["changed"])
                csr = role_status.staged_csr_path(self.staged_key_path)
                if os.path.exists(csr):
                    os.unlink(csr)
            if record is not None:
                record = dict(record)
                if record.get("deployed_serial") != result["serial"]:
                    record.update(deployed_order_id=record.get("order_id"), deployed_serial=result["serial"],
                                  deployed_not_after=result["not_after"], deployed_at=role_status.iso(role_status.utc_now()))
                else:
                    record["deployed_order_id"] = record.get("order_id")
        if record is not None:
            result["record_changed"] = self.write_record(record)
            result["changed"] = result["changed"] or result["record_changed"]
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            cert_path=dict(type="path", required=True),
            key_path=dict(type="path", required=True),
            chain_path=dict(type="path"),
            fullchain_path=dict(type="path"),
            record_path=dict(type="path"),
            staged_key_path=dict(type="path"),
            record=dict(type="dict"),
            certificate=dict(type="str"),
            chain=dict(type="str", default=""),
            root=dict(type="str"),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0644"),
            key_mode=dict(type="raw", default="0600", no_log=False),
            backup=dict(type="bool", default=True),
            services=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                test=dict(type="list", elements="str"),
                reload=dict(type="list", elements="str"),
                unit=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    if role_status.CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=role_status.CRYPTOGRAPHY_IMPORT_ERROR)
    deployer = Deployer(module)
    try:
        result = deployer.run()
    except DeployError as exc:
        module.fail_json(msg=exc.msg, backup_files=dict(deployer.backups), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

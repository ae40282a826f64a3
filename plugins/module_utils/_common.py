# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wotrus_* modules share: the connection argument spec (documented
by the ``wotrus.pki.wotrus`` doc fragment), building the module and the
client, the one fail path, and writing files atomically."""

from __future__ import annotations

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR


def wotrus_argument_spec(**options):
    """The connection options (doc fragment wotrus.pki.wotrus) plus ``options``."""
    spec = dict(
        api_url=dict(type="str", default=protocol.DEFAULT_API_URL,
                     fallback=(env_fallback, ["WOTRUS_API_URL"])),
        api_token=dict(type="str", required=True, no_log=True,
                       fallback=(env_fallback, ["WOTRUS_API_TOKEN"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["WOTRUS_CA_PATH"])),
        timeout=dict(type="float", default=30.0),
    )
    spec.update(options)
    return spec


def create_module(argument_spec, **kwargs):
    """An AnsibleModule with the connection options; fails when a library is missing."""
    module = AnsibleModule(argument_spec=wotrus_argument_spec(**argument_spec), **kwargs)
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    return module


def validate_certs_warning(ca_path=None):
    """The warning for validate_certs=false (which wins over ca_path)."""
    msg = ("validate_certs is false: the API's TLS certificate is not verified, and the token could be sent to "
           "anyone on the path; use ca_path instead")
    if ca_path:
        msg += " (ca_path %s is ignored while validate_certs is false)" % ca_path
    return msg


def client_from_module(module, **kwargs):
    p = module.params
    if not p["validate_certs"]:
        module.warn(validate_certs_warning(p["ca_path"]))
    timeout = float(p["timeout"])
    return WoTrusClient(
        p["api_url"], p["api_token"], validate_certs=p["validate_certs"], ca_path=p["ca_path"],
        timeout=(min(timeout, 10.0), timeout), log=module.log, **kwargs)


def run(module, ensure):
    """Call ``ensure()`` (which returns the result dict): one exit path, one fail path."""
    try:
        result = ensure()
    except PkiError as err:
        module.fail_json(**err.to_result())
    module.exit_json(**result)


def read_file(path):
    """The bytes of ``path``, or None when it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError):
        return None


def write_file(module, path, content, mode=None, backup=False, file_args=True):
    """Write ``content`` to ``path`` atomically when it differs; apply the
    module's file attributes (owner, group, mode, ...). Check mode writes
    nothing. Returns ``(changed, diff, backup_file)``."""
    path = os.path.abspath(os.path.expanduser(path))
    data = content.encode("utf-8") if isinstance(content, str) else content
    before = read_file(path)
    changed = before != data
    backup_file = None
    diff = dict(before_header=path, after_header=path,
                before=before.decode("utf-8", "replace") if before is not None else "",
                after=data.decode("utf-8", "replace"))
    if changed and not module.check_mode:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            module.fail_json(msg="cannot write %s: directory %s does not exist" % (path, directory))
        if backup and before is not None:
            backup_file = module.backup_local(path)
        fd, tmp = tempfile.mkstemp(prefix=".wotrus-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if mode is not None:
                os.chmod(tmp, mode)
            module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    if file_args:
        args = module.load_file_common_arguments(module.params, path=path)
        if before is None and module.check_mode:
            pass  # nothing to compare attributes with
        else:
            changed = module.set_fs_attributes_if_different(args, changed)
    return changed, diff, backup_file


def read_record(path):
    """The order record at ``path`` (on the machine running the module), or None."""
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
    if not path:
        return None
    data = read_file(os.path.expanduser(path))
    if data is None:
        return None
    return orders.parse_record(data.decode("utf-8", "replace"))


def write_record(module, path, record):
    """Write an order record (JSON, mode 0600, no secret in it)."""
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
    changed, dummy, dummy2 = write_file(module, path, orders.dump_record(record), mode=0o600, file_args=False)
    return changed

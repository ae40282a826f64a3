# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wotrus_* modules share: the connection argument spec (documented
by the ``wotrus.pki.wotrus`` doc fragment), building the module and the
client, the one fail path; files are written by ``_files`` (the one writer)."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.wotrus.pki.plugins.module_utils import _files
from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.client import WoTrusClient
from ansible_collections.wotrus.pki.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError, WoTrusError


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


def read_record(path):
    """The order record at ``path`` (on the machine running the module), or None."""
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
    if not path:
        return None
    data = _files.read(os.path.expanduser(path))
    if data is None:
        return None
    return orders.parse_record(data.decode("utf-8", "replace"))


def write_record(module, path, record):
    """Write an order record (JSON, mode 0600, no secret in it) with the collection's one writer."""
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders
    try:
        done = _files.ensure_file(module, path, orders.dump_record(record), _files.FileAttrs(mode=0o600),
                                  option="record_path")
    except _files.FileError as exc:
        raise file_error(exc)
    return done["changed"]


def file_error(exc, before_any_call=False):
    """The WoTrusError for a ``_files.FileError`` (an InputError when raised before any API call)."""
    if before_any_call:
        return InputError(exc.option, exc.reason)
    return WoTrusError(exc.msg, option=exc.option)

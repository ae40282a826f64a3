# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WoTrus module glue: what the wotrus_* modules share around the engine
(_wotrus/engine.py). The connection argument spec (documented by the
``wotrus.pki.wotrus`` doc fragment, env fallbacks from ``engine.ENV``),
building the module and the client, the one exit and fail path, and the one
place a module writes an order record. Files are written by ``_files``
(the one writer)."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.wotrus.pki.plugins.module_utils import _files
from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import record as records
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import InputError, WoTrusError
from ansible_collections.wotrus.pki.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR


def wotrus_argument_spec(**options):
    """The connection options (doc fragment wotrus.pki.wotrus) plus ``options``."""
    spec = dict(
        api_url=dict(type="str", default=protocol.DEFAULT_API_URL,
                     fallback=(env_fallback, [engine.ENV["api_url"]])),
        api_token=dict(type="str", required=True, no_log=True,
                       fallback=(env_fallback, [engine.ENV["api_token"]])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, [engine.ENV["ca_path"]])),
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


def client_from_module(module, **kwargs):
    """The engine's client for the module's connection options."""
    params = module.params
    if not params["validate_certs"]:
        module.warn(engine.validate_certs_warning(params["ca_path"]))
    return engine.connect(params["api_url"], params["api_token"], validate_certs=params["validate_certs"],
                          ca_path=params["ca_path"], timeout=params["timeout"], log=module.log, **kwargs)


def run(module, ensure):
    """Call ``ensure(client)`` (which returns the result dict): one exit path, one fail path.
    The engine's ``warnings`` become module warnings; ``record`` and ``summary`` stay inside."""
    try:
        result = ensure(client_from_module(module))
    except PkiError as err:
        module.fail_json(**err.to_result())
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    result.pop("record", None)
    module.exit_json(**result)


def file_error(exc, before_any_call=False):
    """The WoTrusError for a ``_files.FileError`` (an InputError when raised before any API call)."""
    if before_any_call:
        return InputError(exc.option, exc.reason)
    return WoTrusError(exc.msg, option=exc.option)


def read_record(path, option="record_path"):
    """The order record at ``path`` (None without a path or a file), checked before any API call:
    a path that cannot take a file, or a file that is not an order record (which the module would
    overwrite), is an InputError naming ``option``."""
    if not path:
        return None
    try:
        target = _files.check_target(path, option)
    except _files.FileError as exc:
        raise file_error(exc, before_any_call=True)
    data = _files.read(target)
    if not data or not data.strip():
        return None
    record = records.loads(data)
    if record is None:
        raise InputError(option, "%s is not an order record of this collection (JSON with an order_id); it would be "
                                 "overwritten: give another path or remove the file" % target)
    return record


def keep_record(module, path, result):
    """Write the engine's ``result['record']`` to ``path`` (mode 0600, no secret in it) with the
    collection's one writer when a path is given; the result is changed when the file changed.
    The one place a wotrus_* module writes a record."""
    if path and result.get("record"):
        try:
            done = _files.ensure_file(module, os.path.expanduser(path), records.dumps(result["record"]),
                                      _files.FileAttrs(mode=0o600), option="record_path")
        except _files.FileError as exc:
            raise file_error(exc)
        result["changed"] = result["changed"] or done["changed"]
    return result

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sectigo connection options of every Sectigo module, in one place.

Documented by the ``wotrus.pki.sectigo`` doc fragment, which must list the
same options, defaults and environment variables.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.wotrus.pki.plugins.module_utils._http import REQUESTS_IMPORT_ERROR
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import DEFAULT_API_URL, SectigoClient


def sectigo_argument_spec(**extra):
    spec = dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["SECTIGO_API_URL"])),
        login_name=dict(type="str", fallback=(env_fallback, ["SECTIGO_LOGIN_NAME"])),
        login_password=dict(type="str", no_log=True, fallback=(env_fallback, ["SECTIGO_LOGIN_PASSWORD"])),
        sasp_session_id=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
    )
    spec.update(extra)
    return spec


SECTIGO_REQUIRED_TOGETHER = [["login_name", "login_password"]]


def client_from_module(module):
    """The client; raises SectigoInputError for a bad timeout or ca_path."""
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    return SectigoClient(
        api_url=params["api_url"],
        login_name=params["login_name"],
        login_password=params["login_password"],
        sasp_session_id=params["sasp_session_id"],
        timeout=params["timeout"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
        log=module.log,
    )

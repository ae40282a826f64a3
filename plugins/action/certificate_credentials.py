# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_credentials: the certificate role's credential check, on the controller.

Arguments -> engine.check_credentials (one read call) -> result. The role runs it
once per play (run_once), before the hosts' status task (which makes the keys and CSRs
of what is due), whether or not something is due, in check mode too: a wrong
or missing token, or a CA bundle that does not sign the API's certificate, fails
the play once, naming the role variable. A network failure or a 5xx is only a
warning: those are not the user's settings, and the hosts that need the API meet
the same failure at their own call.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import engine
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    AuthError,
    InputError,
    TransportError,
    WoTrusError,
)

display = Display()

ARGUMENT_SPEC = dict(
    api_url=dict(type="str"),
    api_token=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30),
)

# What the role calls the connection options: errors name the variable a user sets.
ROLE_VARIABLES = dict(api_url="certificate_api_url", api_token="certificate_api_token",
                      ca_path="certificate_ca_path", validate_certs="certificate_validate_certs",
                      timeout="certificate_api_timeout")
NOTHING_CHANGED = "nothing was changed on any host"


def _tls_failure(err):
    return isinstance(err, TransportError) and not err.sent and "TLS" in str(err)


def check(args, connect=engine.connect):
    """The result dict of the check (never raises for WoTrus errors)."""
    token = args.get("api_token")
    secrets = [s for s in (token, engine.connection_settings()["api_token"]) if s]

    def clean(text):
        text = to_text(text)
        for secret in secrets:
            text = text.replace(secret, "********")
        return text

    result = dict(changed=False, checked=False)
    try:
        if not args["validate_certs"]:
            display.warning(engine.validate_certs_warning(args["ca_path"]))
        client = connect(args["api_url"], token, validate_certs=args["validate_certs"], ca_path=args["ca_path"],
                         timeout=args["timeout"], log=display.vvv, option_prefix=ROLE_VARIABLES)
        out = engine.check_credentials(client)
    except AuthError as err:
        result.update(failed=True, error_kind=err.kind, http_status=err.status, request_id=err.request_id,
                      msg=clean("certificate_api_token was refused by the WoTrus API at %s (HTTP 401, RequestID %s): "
                                "check certificate_api_token (or WOTRUS_API_TOKEN on the controller); %s"
                                % (args["api_url"] or engine.connection_settings()["api_url"], err.request_id,
                                   NOTHING_CHANGED)))
        return result
    except InputError as err:
        result.update(failed=True, error_kind=err.kind, msg=clean("%s; %s" % (err, NOTHING_CHANGED)))
        return result
    except WoTrusError as err:
        if _tls_failure(err):
            result.update(failed=True, error_kind=err.kind, request_id=err.request_id,
                          msg=clean("%s; %s" % (err, NOTHING_CHANGED)))
            return result
        # Not the settings' fault (network, 5xx): the hosts that need the API will say it.
        text = clean("the credential check could not reach a verdict: %s" % err)
        display.warning(text)
        result.update(msg=text, error_kind=err.kind, request_id=err.request_id)
        return result
    result.update(checked=True, request_id=out["request_id"],
                  msg="the API token and the TLS trust of %s work (RequestID %s)" % (client.api_url, out["request_id"]))
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        # A read call: it runs in check mode too (the role wants the verdict before any change).
        result.update(check(args))
        return result

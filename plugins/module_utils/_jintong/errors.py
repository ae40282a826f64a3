# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the 今通国际 OrderOpenApi client, and what each MessageCode means."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError

SUCCESS_CODE = "CallSuccess"

# Table 3.3 of the text, with what a person can do about each one.
MESSAGE_CODES = {
    "Unknown": "the service reported an unknown result; retry later or ask 今通国际 support",
    "CallSuccess": "the call succeeded",
    "Authorised": "the service answered 'Authorised' without a result; ask 今通国际 support what it means for this call",
    "UnfoundUserInfo": "the partner ID is not known to the service; check the 'partner' option",
    "UnauthorizedIp": "this machine's IP address is not on the partner's allowed list; ask 今通国际 to allow it",
    "NotImplemented": "the service does not implement this action or version",
    "ArgumentIllegal": "a parameter was refused as illegal; check order_id, consumer and remark",
    "ArgumentDecryptFail": "the service could not decrypt the parameters",
    "ArgumentDeserializeFail": "the service could not read the Param XML",
    "SignFail": "the signature was refused; check the 'key' option (it must be the partner's signing key)",
    "CallFail": "the service refused the call; its description says why",
}

# Assumption (the text is silent): cancelling an order that is already
# cancelled answers CallFail with a description naming that state. These
# fragments of Description mark "already cancelled", reported as changed=False.
ALREADY_CANCELLED_MARKERS = ("已取消", "已经取消", "already cancel")


class JintongError(PkiError):
    """Base class of every 今通国际 error: the 今通国际 branch of the collection's
    one error tree (``module_utils/_errors.py``). ``error_code`` is the
    answer's ``MessageCode``, ``error_msg`` its ``Description``."""
    provider = "jintong"


class JintongTransportError(JintongError):
    """The service could not be reached."""
    kind = "transport"

    def __init__(self, message, sent=True, **kwargs):
        super().__init__(message, **kwargs)
        self.sent = sent


class JintongResponseError(JintongError):
    """The answer could not be read (not XML, no MessageModel)."""
    kind = "response"


class JintongSignatureError(JintongError):
    """The answer carried a Sign that does not match: do not trust it."""
    kind = "signature"


class JintongApiError(JintongError):
    """The service answered with a MessageCode other than CallSuccess."""
    kind = "api"


class JintongInputError(JintongError):
    """A connection option is wrong; raised before any call. ``option`` names it."""
    kind = "input"

    def __init__(self, option, message, **kwargs):
        super().__init__("%s: %s" % (option, message), option=option, **kwargs)


def explain(code):
    """A sentence for ``code``; unknown codes (e.g. ``Unauthorized``) are named as such."""
    if code in MESSAGE_CODES:
        return MESSAGE_CODES[code]
    return "the service answered with a code this collection does not know"

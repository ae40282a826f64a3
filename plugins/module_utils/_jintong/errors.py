# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the 今通国际 OrderOpenApi client, and what each MessageCode means."""

from __future__ import annotations

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


class JintongError(Exception):
    """Base class: ``message`` is a sentence a person can act on."""

    def __init__(self, message, url=None, http_status=None, message_code=None, description=None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.http_status = http_status
        self.message_code = message_code
        self.description = description

    def to_dict(self):
        """Structured fields for fail_json (no secrets in here)."""
        return dict(
            url=self.url,
            http_status=self.http_status,
            message_code=self.message_code,
            description=self.description,
        )


class JintongTransportError(JintongError):
    """The service could not be reached or answered with an HTTP error."""


class JintongResponseError(JintongError):
    """The answer could not be read (not XML, no MessageModel)."""


class JintongSignatureError(JintongError):
    """The answer carried a Sign that does not match: do not trust it."""


class JintongApiError(JintongError):
    """The service answered with a MessageCode other than CallSuccess."""


def explain(code):
    """A sentence for ``code``; unknown codes (e.g. ``Unauthorized``) are named as such."""
    if code in MESSAGE_CODES:
        return MESSAGE_CODES[code]
    return "the service answered with a code this collection does not know"

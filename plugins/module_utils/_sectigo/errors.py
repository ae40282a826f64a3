# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the Sectigo partner API client (``!getPostPaymentStatus``, document upload)."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError

# Section 2.1 of the API text, with what a person can do about each code.
ERROR_CODES = {
    -1: "the request was not made over HTTPS; use an https:// api_url",
    -2: "the API did not recognise an argument this collection sent; the API may have changed",
    -3: "an argument the API requires is missing",
    -4: "the value of an argument is invalid (check order_number and certificate_id)",
    -14: "Sectigo reported an unknown error; retry later or contact Sectigo support",
    -16: "the login was refused: wrong login_name/login_password or sasp_session_id, account locked, "
         "password expired or this machine's source IP blocked",
    -17: "the request used GET rather than POST",
    -42: "the call limit was reached; wait before calling again",
}

ERROR_CALL_LIMIT = -42
ERROR_LOGIN = -16


class SectigoError(PkiError):
    """Base class of every Sectigo error: the Sectigo branch of the collection's
    one error tree (``module_utils/_errors.py``). ``error_code`` is Sectigo's
    ``errorCode``, ``error_msg`` its ``errorMessage``."""
    provider = "sectigo"


class SectigoTransportError(SectigoError):
    """Sectigo could not be reached, or answered with an HTTP error and no JSON."""
    kind = "transport"

    def __init__(self, message, sent=True, **kwargs):
        super().__init__(message, **kwargs)
        self.sent = sent


class SectigoResponseError(SectigoError):
    """The answer is not the JSON envelope the text describes."""
    kind = "response"


class SectigoApiError(SectigoError):
    """The answer's ``errorCode`` is not 0."""
    kind = "api"


class SectigoAuthError(SectigoApiError):
    """``errorCode`` -16: login refused."""
    kind = "auth"


class SectigoCallLimitError(SectigoApiError):
    """``errorCode`` -42, still there after the retries."""
    kind = "call_limit"


class SectigoUploadError(SectigoError):
    """The document upload service refused the upload."""
    kind = "upload"


class SectigoInputError(SectigoError):
    """A connection option is wrong; raised before any call. ``option`` names it."""
    kind = "input"

    def __init__(self, option, message, **kwargs):
        super().__init__("%s: %s" % (option, message), option=option, **kwargs)


def explain(code):
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    return "Sectigo answered with an error code this collection does not know"

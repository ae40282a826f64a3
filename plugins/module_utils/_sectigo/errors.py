# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the Sectigo partner API client (``!getPostPaymentStatus``, document upload)."""

from __future__ import annotations

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


class SectigoError(Exception):
    """Base class: ``message`` is a sentence a person can act on."""

    def __init__(self, message, url=None, http_status=None, error_code=None, error_message=None):
        super().__init__(message)
        self.message = message
        self.url = url
        self.http_status = http_status
        self.error_code = error_code
        self.error_message = error_message

    def to_dict(self):
        """Structured fields for fail_json (never a password, session or token)."""
        return dict(url=self.url, http_status=self.http_status,
                    error_code=self.error_code, error_message=self.error_message)


class SectigoTransportError(SectigoError):
    """Sectigo could not be reached, or answered with an HTTP error and no JSON."""


class SectigoResponseError(SectigoError):
    """The answer is not the JSON envelope the text describes."""


class SectigoApiError(SectigoError):
    """The answer's ``errorCode`` is not 0."""


class SectigoAuthError(SectigoApiError):
    """``errorCode`` -16: login refused."""


class SectigoCallLimitError(SectigoApiError):
    """``errorCode`` -42, still there after the retries."""


class SectigoUploadError(SectigoError):
    """The document upload service refused the upload."""


def explain(code):
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    return "Sectigo answered with an error code this collection does not know"

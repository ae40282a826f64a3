# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client of the Sectigo partner API ``!getPostPaymentStatus`` (seed 003).

* A form POST over HTTPS; field names as in the text's table. The call only
  reads, so the collection's HTTP stack (``module_utils/_http.py``) retries it
  like a GET: connection errors, 408, 429, 5xx, ``Retry-After``.
* ``errorCode`` arrives as a number on success and as a string on failure
  (the text's failure example): both are read as integers.
* ``-42`` (call limit) is retried here with capped exponential backoff and
  jitter: it comes in a JSON answer with HTTP 200, which urllib3's ``Retry``
  (statuses and connection errors only) cannot see. Every other code raises
  at once.
* Document upload: a multipart POST to ``uploadDocumentUrl`` with the JWT
  ``uploadDocumentToken`` (section 3). The service is an HTML form target that
  redirects to ``successURL`` or ``errorURL``; the client sends sentinel URLs
  and reads the redirect instead of following it. Uploads are sent again only
  when they cannot have reached the service.
"""

from __future__ import annotations

import json
import mimetypes
import os
from urllib.parse import parse_qs, urlencode, urlsplit

from ansible_collections.wotrus.pki.plugins.module_utils._http import READ, WRITE, HttpClient
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import (
    ERROR_CALL_LIMIT,
    ERROR_LOGIN,
    SectigoApiError,
    SectigoAuthError,
    SectigoCallLimitError,
    SectigoInputError,
    SectigoResponseError,
    SectigoTransportError,
    SectigoUploadError,
    explain,
)

DEFAULT_API_URL = "https://secure.trust-provider.com/products/!getPostPaymentStatus"

# Sentinels for the upload form's successURL / errorURL (never fetched).
UPLOAD_SUCCESS_URL = "https://upload-result.wotrus-pki.invalid/success"
UPLOAD_ERROR_URL = "https://upload-result.wotrus-pki.invalid/error"

DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 2.0      # seconds before the first retry
DEFAULT_MAX_DELAY = 30.0   # cap of one wait


def parse_error_code(value):
    """``errorCode`` as an int, whether the JSON holds ``0``, ``"-4"`` or ``" -42 "``."""
    if isinstance(value, bool):
        raise ValueError("boolean errorCode")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError("errorCode %r is not a number" % (value,))


class SectigoClient:
    """``option_prefix`` is put before option names in input errors
    (``sectigo_`` for the role's options). Raises SectigoInputError for a bad
    ``timeout`` or ``ca_path`` before any call."""

    def __init__(self, api_url=DEFAULT_API_URL, login_name=None, login_password=None, sasp_session_id=None,
                 timeout=30, validate_certs=True, ca_path=None, retries=DEFAULT_RETRIES,
                 backoff=DEFAULT_BACKOFF, max_delay=DEFAULT_MAX_DELAY, sleep=None,
                 log=None, option_prefix="", session=None):
        self.api_url = api_url
        self._login_name = login_name
        self._login_password = login_password
        self._sasp_session_id = sasp_session_id
        self.retries = retries
        self.http = HttpClient("Sectigo", SectigoTransportError, SectigoInputError, validate_certs=validate_certs,
                               ca_path=ca_path, timeout=timeout, retries=retries, backoff=backoff,
                               max_backoff=max_delay, sleep=sleep, log=log,
                               secrets=[login_password, sasp_session_id], option_prefix=option_prefix,
                               session=session)
        self.retried = 0

    # -- authentication -------------------------------------------------
    def _auth_fields(self):
        # The text: with saspSessionID, loginName and loginPassword are omitted.
        if self._sasp_session_id:
            return [("saspSessionID", self._sasp_session_id)]
        return [("loginName", self._login_name or ""), ("loginPassword", self._login_password or "")]

    def _error(self, cls, message, **fields):
        return self.http.error(cls, message, url=self.api_url, method="POST", **fields)

    # -- one call ---------------------------------------------------------
    def _post_once(self, fields, what):
        body = urlencode(fields, encoding="utf-8").encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                   "Accept": "application/json"}
        answer = self.http.request("POST", self.api_url, policy=READ, what=what, data=body, headers=headers)
        try:
            document = json.loads(answer.body.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            if answer.status >= 400:
                raise self._error(
                    SectigoTransportError,
                    "Sectigo answered HTTP %s at %s without the JSON the API describes." % (answer.status, self.api_url),
                    status=answer.status, attempts=answer.attempts)
            raise self._error(
                SectigoResponseError,
                "Sectigo answered HTTP %s at %s with something that is not JSON; check api_url."
                % (answer.status, self.api_url), status=answer.status)
        if not isinstance(document, dict) or "errorCode" not in document:
            raise self._error(SectigoResponseError, "Sectigo's answer at %s has no errorCode; check api_url."
                              % self.api_url, status=answer.status)
        try:
            code = parse_error_code(document["errorCode"])
        except ValueError:
            raise self._error(SectigoResponseError, "Sectigo's answer at %s has an errorCode that is not a number: %r."
                              % (self.api_url, document["errorCode"]), status=answer.status)
        return answer.status, code, document

    def call(self, fields, what="read the post-payment status"):
        """POST ``fields`` (plus authentication); return ``data``. Retries -42 only."""
        fields = self._auth_fields() + [(k, v) for k, v in fields if v not in (None, "")]
        attempt = 0
        while True:
            status, code, document = self._post_once(fields, what)
            if code == 0:
                data = document.get("data")
                if not isinstance(data, dict):
                    raise self._error(SectigoResponseError,
                                      "Sectigo answered errorCode 0 at %s without a data object." % self.api_url,
                                      status=status, error_code=0)
                return data
            message = document.get("errorMessage") or ""
            if code == ERROR_CALL_LIMIT and attempt < self.retries:
                attempt += 1
                self.retried += 1
                self.http.wait(attempt, None, "Sectigo call limit reached (errorCode -42); retry %d of %d"
                               % (attempt, self.retries))
                continue
            cls = SectigoApiError
            if code == ERROR_LOGIN:
                cls = SectigoAuthError
            elif code == ERROR_CALL_LIMIT:
                cls = SectigoCallLimitError
            sentence = explain(code)
            if code == ERROR_CALL_LIMIT:
                sentence += " (still limited after %d retries)" % attempt
            raise self._error(cls, "Sectigo refused the call: %s (errorCode %d: %s)."
                              % (sentence, code, message or "no message"),
                              status=status, error_code=code, error_msg=message or None)

    # -- the API ------------------------------------------------------------
    def get_post_payment_status(self, order_number, certificate_id=None):
        fields = [("orderNumber", str(order_number))]
        if certificate_id is not None:
            fields.append(("certificateID", str(certificate_id)))
        return self.call(fields, what="read the post-payment status of order %s" % order_number)

    def upload_documents(self, upload_url, token, paths, comment=None):
        """Upload the files at ``paths`` in one multipart POST. Returns the HttpAnswer.

        The body is built by requests (``files=``), the library that sends
        every call of the collection, not by ``ansible.module_utils.urls.prepare_multipart``:
        that would make this client import Ansible, which module_utils/_sectigo
        must not (the sandbox and unit tests import it without Ansible), and
        would build a body for a different HTTP stack.
        """
        self.http.secrets.append(token)
        files = []
        for path in paths:
            with open(path, "rb") as handle:
                content = handle.read()
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            files.append(("file", (os.path.basename(path), content, mime)))
        fields = [("token", token), ("successURL", UPLOAD_SUCCESS_URL), ("errorURL", UPLOAD_ERROR_URL)]
        if comment:
            fields.append(("comment", comment))
        answer = self.http.request("POST", upload_url, policy=WRITE, what="upload the documents",
                                   data=fields, files=files)
        location = answer.header("Location") or ""
        if 300 <= answer.status < 400 and location.startswith(UPLOAD_SUCCESS_URL):
            return answer
        common = dict(url=upload_url, method="POST", status=answer.status)
        if 300 <= answer.status < 400 and location.startswith(UPLOAD_ERROR_URL):
            query = parse_qs(urlsplit(location).query)
            reason = "; ".join(v for key in ("error", "message", "errorMessage") for v in query.get(key, [])) \
                or "no reason given"
            raise self.http.error(SectigoUploadError, "Sectigo's document service refused the upload: %s." % reason,
                                  error_msg=reason, **common)
        if 200 <= answer.status < 300:
            # Assumption: without a redirect, a 2xx answer means the upload was stored.
            return answer
        detail = answer.body.decode("utf-8", "replace")[:300]
        hint = ""
        if answer.status in (401, 403):
            hint = " The upload token was refused: it may have expired; read the order status again for a new one."
        raise self.http.error(SectigoUploadError, "Sectigo's document service answered HTTP %s.%s"
                              % (answer.status, hint), error_msg=detail or None, **common)

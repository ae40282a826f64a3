# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client of the Sectigo partner API ``!getPostPaymentStatus`` (seed 003).

* A form POST over HTTPS; field names as in the text's table.
* ``errorCode`` arrives as a number on success and as a string on failure
  (the text's failure example): both are read as integers.
* ``-42`` (call limit) is retried with capped exponential backoff and
  jitter: the call only reads. Every other code raises at once.
* Document upload: a multipart POST to ``uploadDocumentUrl`` with the JWT
  ``uploadDocumentToken`` (section 3). The service is an HTML form target that
  redirects to ``successURL`` or ``errorURL``; the client sends sentinel URLs
  and reads the redirect instead of following it. Uploads are never retried.
"""

from __future__ import annotations

import json
import mimetypes
import os
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from ansible_collections.wotrus.pki.plugins.module_utils._http import backoff_delay, post_no_redirect
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import (
    ERROR_CALL_LIMIT,
    ERROR_LOGIN,
    SectigoApiError,
    SectigoAuthError,
    SectigoCallLimitError,
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


class HttpAnswer(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers or {}
        self.body = body

    def header(self, name):
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def _http_post(url, body, headers, timeout, validate_certs, ca_path):
    """POST without following redirects; return an HttpAnswer (any status)."""
    def unreachable(reason):
        return SectigoTransportError("Could not reach %s: %s. Check the URL and the network." % (url, reason),
                                     url=url)
    return HttpAnswer(*post_no_redirect(url, body, headers, timeout, validate_certs, ca_path, unreachable))


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


def encode_multipart(fields, files):
    """``(content_type, body)`` of a multipart/form-data body.

    ``fields``: list of (name, text); ``files``: list of (name, filename, bytes, mime type).
    """
    boundary = "----wotrus-pki-%s" % uuid.uuid4().hex
    chunks = []
    for name, value in fields:
        chunks.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, name)).encode("utf-8"))
        chunks.append(value.encode("utf-8"))
        chunks.append(b"\r\n")
    for name, filename, content, mime in files:
        safe_name = filename.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
        chunks.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                       "Content-Type: %s\r\n\r\n" % (boundary, name, safe_name, mime)).encode("utf-8"))
        chunks.append(content)
        chunks.append(b"\r\n")
    chunks.append(("--%s--\r\n" % boundary).encode("ascii"))
    return "multipart/form-data; boundary=%s" % boundary, b"".join(chunks)


class SectigoClient(object):
    def __init__(self, api_url=DEFAULT_API_URL, login_name=None, login_password=None, sasp_session_id=None,
                 timeout=30, validate_certs=True, ca_path=None, retries=DEFAULT_RETRIES,
                 backoff=DEFAULT_BACKOFF, max_delay=DEFAULT_MAX_DELAY, transport=None, sleep=time.sleep,
                 log=None):
        self.api_url = api_url
        self._login_name = login_name
        self._login_password = login_password
        self._sasp_session_id = sasp_session_id
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self._transport = transport or _http_post
        self._sleep = sleep
        self._log = log or (lambda message: None)
        self.retried = 0

    # -- authentication -------------------------------------------------
    def _auth_fields(self):
        # The text: with saspSessionID, loginName and loginPassword are omitted.
        if self._sasp_session_id:
            return [("saspSessionID", self._sasp_session_id)]
        return [("loginName", self._login_name or ""), ("loginPassword", self._login_password or "")]

    # -- one call ---------------------------------------------------------
    def _post_once(self, fields):
        body = urlencode(fields, encoding="utf-8").encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                   "Accept": "application/json"}
        answer = self._transport(self.api_url, body, headers, self.timeout, self.validate_certs, self.ca_path)
        try:
            document = json.loads(answer.body.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            if answer.status >= 400:
                raise SectigoTransportError(
                    "Sectigo answered HTTP %s at %s without the JSON the API describes." % (answer.status, self.api_url),
                    url=self.api_url, http_status=answer.status)
            raise SectigoResponseError(
                "Sectigo answered HTTP %s at %s with something that is not JSON; check api_url."
                % (answer.status, self.api_url), url=self.api_url, http_status=answer.status)
        if not isinstance(document, dict) or "errorCode" not in document:
            raise SectigoResponseError(
                "Sectigo's answer at %s has no errorCode; check api_url." % self.api_url,
                url=self.api_url, http_status=answer.status)
        try:
            code = parse_error_code(document["errorCode"])
        except ValueError:
            raise SectigoResponseError(
                "Sectigo's answer at %s has an errorCode that is not a number: %r."
                % (self.api_url, document["errorCode"]), url=self.api_url, http_status=answer.status)
        return answer.status, code, document

    def _delay(self, attempt):
        """Capped exponential with jitter: uniform(c/2, c), c = min(cap, base * 2**attempt).

        No Retry-After: the call limit (-42) arrives in a JSON answer, not as an HTTP status.
        """
        return backoff_delay(attempt, self.backoff, self.max_delay)

    def call(self, fields):
        """POST ``fields`` (plus authentication); return ``data``. Retries -42 only."""
        fields = self._auth_fields() + [(k, v) for k, v in fields if v not in (None, "")]
        attempt = 0
        while True:
            status, code, document = self._post_once(fields)
            if code == 0:
                data = document.get("data")
                if not isinstance(data, dict):
                    raise SectigoResponseError(
                        "Sectigo answered errorCode 0 at %s without a data object." % self.api_url,
                        url=self.api_url, http_status=status, error_code=0)
                return data
            message = document.get("errorMessage") or ""
            if code == ERROR_CALL_LIMIT and attempt < self.retries:
                delay = self._delay(attempt)
                attempt += 1
                self.retried += 1
                self._log("Sectigo call limit reached (errorCode -42); retry %d of %d in %.1fs"
                          % (attempt, self.retries, delay))
                self._sleep(delay)
                continue
            cls = SectigoApiError
            if code == ERROR_LOGIN:
                cls = SectigoAuthError
            elif code == ERROR_CALL_LIMIT:
                cls = SectigoCallLimitError
            sentence = explain(code)
            if code == ERROR_CALL_LIMIT:
                sentence += " (still limited after %d retries)" % attempt
            raise cls("Sectigo refused the call: %s (errorCode %d: %s)." % (sentence, code, message or "no message"),
                      url=self.api_url, http_status=status, error_code=code, error_message=message)

    # -- the API ------------------------------------------------------------
    def get_post_payment_status(self, order_number, certificate_id=None):
        fields = [("orderNumber", str(order_number))]
        if certificate_id is not None:
            fields.append(("certificateID", str(certificate_id)))
        return self.call(fields)

    def upload_documents(self, upload_url, token, paths, comment=None):
        """Upload the files at ``paths`` in one multipart POST. Returns the HttpAnswer."""
        files = []
        for path in paths:
            with open(path, "rb") as handle:
                content = handle.read()
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            files.append(("file", os.path.basename(path), content, mime))
        fields = [("token", token), ("successURL", UPLOAD_SUCCESS_URL), ("errorURL", UPLOAD_ERROR_URL)]
        if comment:
            fields.append(("comment", comment))
        content_type, body = encode_multipart(fields, files)
        answer = self._transport(upload_url, body, {"Content-Type": content_type}, self.timeout,
                                 self.validate_certs, self.ca_path)
        location = answer.header("Location") or ""
        if 300 <= answer.status < 400 and location.startswith(UPLOAD_SUCCESS_URL):
            return answer
        if 300 <= answer.status < 400 and location.startswith(UPLOAD_ERROR_URL):
            query = parse_qs(urlsplit(location).query)
            reason = "; ".join(v for key in ("error", "message", "errorMessage") for v in query.get(key, [])) \
                or "no reason given"
            raise SectigoUploadError(
                "Sectigo's document service refused the upload: %s." % reason,
                url=upload_url, http_status=answer.status, error_message=reason)
        if 200 <= answer.status < 300:
            # Assumption: without a redirect, a 2xx answer means the upload was stored.
            return answer
        detail = ""
        try:
            detail = answer.body.decode("utf-8", "replace")[:300]
        except Exception:  # pragma: no cover
            pass
        hint = ""
        if answer.status in (401, 403):
            hint = " The upload token was refused: it may have expired; read the order status again for a new one."
        raise SectigoUploadError(
            "Sectigo's document service answered HTTP %s.%s" % (answer.status, hint),
            url=upload_url, http_status=answer.status, error_message=detail or None)

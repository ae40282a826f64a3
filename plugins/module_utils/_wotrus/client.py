# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WoTrus client: the ``WoTrusToken`` header, a fresh ``RequestID`` per
call, the answer envelope read case-insensitively, and a sentence for every
way a call can fail. The HTTP itself (session, TLS, timeouts, retries with
urllib3's ``Retry``, ``Retry-After``) is the collection's one stack,
``module_utils/_http.py``.

Retry policy (see docs/modules.md):

* GETs and the POSTs that carry an ``idempotenceID`` (Create, Reissue) are
  retried on connection errors (also a reset after the request was sent: the
  answer may be lost after the service committed; the same key makes the
  resend harmless), 408, 429, 5xx, and answers that are not a WoTrus envelope.
* POSTs without a key (Cancel, Revoke, Notify) are sent again by the client
  only when the request cannot have reached the service (connection refused,
  DNS, connect timeout). For every other failure the caller re-reads the order
  before it decides to send again (orders.py, certificates.py), waiting what
  the service's ``Retry-After`` asked for.

Nothing follows a redirect to another origin, and POSTs follow no redirect at
all, so the token never leaves ``api_url``'s origin.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from ansible_collections.wotrus.pki.plugins.module_utils import _http
from ansible_collections.wotrus.pki.plugins.module_utils._http import KEYED, READ, RETRY_STATUSES, WRITE
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import inputs, protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    AuthError,
    InputError,
    TransportError,
    WoTrusError,
)

# What a person should do, by HTTP status.
STATUS_ADVICE = {
    400: "the API rejected the request as malformed (HTTP 400); check the module options",
    403: "the API refused access (HTTP 403); the token may not be allowed this product or order",
    404: "the API does not know this resource (HTTP 404); check order_id and api_url",
    405: "the API does not allow this method here (HTTP 405); check api_url",
    409: "the API reports a conflict (HTTP 409); the order changed meanwhile, run again",
    413: "the request is too large for the API (HTTP 413); use smaller document or proof files",
}


def _truthy(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return False


class Answer:
    """A successful answer: ``data`` is the envelope's ``data`` as sent."""

    def __init__(self, data, envelope, status, url, method, request_id, attempts):
        self.data = data
        self.envelope = envelope
        self.status = status
        self.url = url
        self.method = method
        self.request_id = request_id
        self.attempts = attempts


class WoTrusClient:
    """One client per module run. ``timeout`` is seconds or ``(connect, read)``.

    Raises :class:`InputError` for a bad ``api_url``, ``api_token``,
    ``timeout`` or ``ca_path`` before any call."""

    def __init__(self, api_url, api_token, validate_certs=True, ca_path=None, timeout=(10, 60),
                 retries=_http.DEFAULT_RETRIES, backoff=_http.DEFAULT_BACKOFF, max_backoff=_http.DEFAULT_MAX_BACKOFF,
                 max_retry_after=_http.DEFAULT_MAX_RETRY_AFTER, sleep=None, log=None, session=None, rand=None,
                 user_agent=_http.USER_AGENT, option_prefix="", max_throttle_wait=_http.DEFAULT_MAX_THROTTLE_WAIT):
        self.api_url = inputs.check_api_url(api_url, _http.option_name(option_prefix, "api_url"))
        if api_token is None or not str(api_token).strip():
            raise InputError(_http.option_name(option_prefix, "api_token"),
                             "is empty; set api_token or the WOTRUS_API_TOKEN environment variable")
        api_token = str(api_token).strip()
        if any(c in api_token for c in "\r\n\t ") or not api_token.isprintable():
            raise InputError(_http.option_name(option_prefix, "api_token"), "holds whitespace or control characters; check how it is set")
        try:
            api_token.encode("latin-1")  # an HTTP header value
        except UnicodeEncodeError:
            raise InputError(_http.option_name(option_prefix, "api_token"), "holds characters an HTTP header cannot carry (only "
                             "Latin-1); check how it is set")
        self._token = api_token
        extra = {}
        if rand is not None:
            extra["rand"] = rand
        self.http = _http.HttpClient(
            "WoTrus", TransportError, InputError, validate_certs=validate_certs, ca_path=ca_path,
            timeout=timeout, retries=retries, backoff=backoff, max_backoff=max_backoff,
            max_retry_after=max_retry_after, max_throttle_wait=max_throttle_wait, sleep=sleep, log=log, user_agent=user_agent, secrets=[api_token],
            option_prefix=option_prefix, session=session, **extra)
        self.verify = self.http.verify
        self.timeout = self.http.timeout
        self.retries = self.http.retries
        # Every call made, for debugging and tests: (method, path, status or error, RequestID).
        self.history = []

    # -- helpers ---------------------------------------------------------
    def scrub(self, text):
        """Remove the token from a text (errors, logs)."""
        return self.http.scrub(text)

    def log(self, message):
        self.http.log(message)

    def wait(self, attempt, retry_after=None, what=""):
        """The wait before a caller's own resend (re-read, then send again)."""
        return self.http.wait(attempt, retry_after, what)

    def url_for(self, path):
        return self.api_url + path

    @staticmethod
    def order_path(order_id):
        return protocol.PATH_ORDER.format(order_id=quote(str(order_id).strip(), safe=""))

    def _headers(self, request_id, has_body):
        headers = {
            protocol.TOKEN_HEADER: self._token,
            protocol.REQUEST_ID_HEADER: request_id,
            "Accept": "application/json",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _error(self, cls, message, **kwargs):
        return self.http.error(cls, message, **kwargs)

    # -- the public call -------------------------------------------------------
    def call(self, method, path, params=None, body=None, policy=READ, what=None):
        """Make one API call and return an :class:`Answer`.

        ``policy`` is ``_http.READ`` (GET), ``_http.KEYED`` (a POST carrying an
        idempotenceID) or ``_http.WRITE`` (any other POST). ``what`` is the
        action in words for error messages ("create the order").

        One ``RequestID`` per call: urllib3's resends of the call carry the same
        one, so the provider's log shows them together.
        """
        method = method.upper()
        url = self.url_for(path)
        what = what or "%s %s" % (method, path)
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            request_id = uuid.uuid4().hex
            try:
                answer = self.http.request(method, url, policy=policy, what=what, params=params, data=data,
                                           headers=self._headers(request_id, data is not None),
                                           request_id=request_id, follow_same_origin=(method == "GET"))
            except WoTrusError as exc:
                self.history.append((method, path, type(exc).__name__, request_id))
                raise
            status = answer.status
            self.history.append((method, path, status, request_id))
            common = dict(url=answer.url, method=method, request_id=request_id, attempts=answer.attempts)
            if status in _http.REDIRECT_STATUSES:
                raise self._error(
                    TransportError,
                    "the API answered this %s with a redirect to %s; POSTs follow no redirect, check api_url "
                    "(scheme, host and path)" % (method, answer.header("Location") or "nowhere"),
                    status=status, **common)
            envelope, parse_error = None, None
            try:
                envelope = json.loads(answer.body.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as exc:
                parse_error = exc
            if envelope is not None and not isinstance(envelope, dict):
                parse_error, envelope = "not a JSON object", None
            error_msg = protocol.ci_get(envelope, "errorMsg") if envelope else None

            if status == 401:
                raise self._error(AuthError, "the API token was refused (HTTP 401); check api_token / WOTRUS_API_TOKEN",
                                  status=status, error_msg=error_msg, **common)
            if status in RETRY_STATUSES or status >= 500:
                retry_after = answer.retry_after
                if status == 429:
                    message = "the WoTrus API is rate limiting (HTTP 429) while trying to %s" % what
                else:
                    message = "the WoTrus API failed (HTTP %d) while trying to %s" % (status, what)
                if method == "GET":
                    message += "; nothing was changed, try again later"
                elif policy == KEYED:
                    message += ("; the outcome is unknown, and running again is safe: the resend carries the same "
                                "idempotence id")
                else:
                    message += "; the outcome is unknown: read the order before trying again"
                raise self._error(TransportError, message, status=status, error_msg=error_msg,
                                  retry_after=retry_after, **common)
            if status >= 400:
                advice = STATUS_ADVICE.get(status, "the API refused the request (HTTP %d)" % status)
                raise self._error(ApiError, "could not %s: %s" % (what, advice),
                                  status=status, error_msg=error_msg, **common)
            if envelope is None or not any(k.lower() == "issuccess" for k in envelope):
                # urllib3 cannot see a body: an answer that is not an envelope (a proxy's page, a
                # truncated body) is sent again here, for the calls that may be repeated.
                if policy != WRITE and attempt <= self.retries:
                    self.wait(attempt, None, "%s %s answered something that is not a WoTrus envelope (RequestID %s); "
                                             "retry %d of %d" % (method, path, request_id, attempt, self.retries))
                    continue
                if policy == WRITE:
                    tail = "; the outcome is unknown: read the order before trying again"
                else:
                    tail = "; check api_url points at the WoTrus API"
                raise self._error(
                    TransportError, "the answer to %s is not a WoTrus envelope (%s)%s"
                    % (what, parse_error or "no isSuccess", tail), status=status, **common)
            if not _truthy(protocol.ci_get(envelope, "isSuccess")):
                raise self._error(ApiError, "the WoTrus API refused to %s: %s"
                                  % (what, error_msg or "no reason given"),
                                  status=status, error_msg=error_msg, **common)
            return Answer(protocol.ci_get(envelope, "data"), envelope, status, answer.url, method,
                          request_id, answer.attempts)

    def get(self, path, params=None, what=None):
        return self.call("GET", path, params=params, policy=READ, what=what)

    def post(self, path, body, keyed=False, what=None):
        """POST ``body``. ``keyed=True`` when it carries an idempotenceID (safe to resend)."""
        return self.call("POST", path, body=body, policy=KEYED if keyed else WRITE, what=what)

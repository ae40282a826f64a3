# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WoTrus HTTP client: one session, the ``WoTrusToken`` header, a fresh
``RequestID`` per request, timeouts, retries where they are safe, and the
answer envelope read case-insensitively.

Retry policy (see docs/modules.md):

* ``retry="safe"`` -- GETs and the POSTs that carry an ``idempotenceID``
  (Create, Reissue). Retried on connection errors (also a reset after the
  request was sent: the answer may be lost after the service committed; the
  same key makes the resend harmless), 408, 429, 5xx and answers that are not
  a WoTrus envelope.
* ``retry="unsent"`` -- POSTs without a key (Cancel, Revoke, Notify). Retried
  only when the request cannot have reached the service: connection refused,
  connect timeout, DNS failure, 408 and 429. For every other failure the
  caller re-reads the order before it decides to try again (orders.py,
  certificates.py).

Backoff is capped exponential with jitter; ``Retry-After`` (seconds or an HTTP
date) is honoured and capped. Nothing follows a redirect to another origin,
and POSTs follow no redirect at all, so the token never leaves ``api_url``'s
origin.
"""

from __future__ import annotations

import json
import random
import time
import traceback
import uuid
from urllib.parse import quote, urljoin, urlsplit

try:
    import requests
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.wotrus.pki.plugins.module_utils._http import backoff_delay, parse_retry_after
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import (
    ApiError,
    AuthError,
    InputError,
    TransportError,
    WoTrusError,
)

USER_AGENT = "wotrus.pki/0.1.0 (+ansible)"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
MAX_REDIRECTS = 5

# HTTP statuses after which a safe call is tried again.
RETRY_STATUSES = frozenset([408, 429, 500, 502, 503, 504])
# Statuses that say the request was not processed: an unkeyed POST may be sent again.
UNSENT_STATUSES = frozenset([408, 429])

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


def origin_of(url):
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port)


class Answer(object):
    """A successful answer: ``data`` is the envelope's ``data`` as sent."""

    def __init__(self, data, envelope, status, url, method, request_id, attempts):
        self.data = data
        self.envelope = envelope
        self.status = status
        self.url = url
        self.method = method
        self.request_id = request_id
        self.attempts = attempts

    @property
    def success_msg(self):
        return protocol.ci_get(self.envelope, "successMsg")


class WoTrusClient(object):
    """One client per module run. ``timeout`` is seconds or ``(connect, read)``."""

    def __init__(self, api_url, api_token, validate_certs=True, ca_path=None, timeout=(10, 60),
                 retries=4, backoff=1.0, max_backoff=30.0, max_retry_after=120.0,
                 sleep=time.sleep, log=None, session=None, rand=random.random,
                 user_agent=USER_AGENT):
        if requests is None:  # pragma: no cover - the modules check first
            raise TransportError("the Python library 'requests' is required")
        api_url = (api_url or protocol.DEFAULT_API_URL).strip().rstrip("/")
        parts = urlsplit(api_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InputError("api_url", "must be an https:// URL, got %r" % api_url)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise InputError("api_url", "must use https:// (the token would travel in clear); "
                                        "plain http is accepted for localhost only")
        if api_token is None or not str(api_token).strip():
            raise InputError("api_token", "is empty; set api_token or the WOTRUS_API_TOKEN environment variable")
        api_token = str(api_token).strip()
        if any(c in api_token for c in "\r\n\t ") or not api_token.isprintable():
            raise InputError("api_token", "holds whitespace or control characters; check how it is set")
        self.api_url = api_url
        self._origin = origin_of(api_url)
        self._token = api_token
        # validate_certs=False wins over ca_path (as in ansible's open_url, which the
        # Sectigo and 今通 clients use); the modules warn whenever it is false.
        if not validate_certs:
            self.verify = False
        elif ca_path:
            self.verify = ca_path
        else:
            self.verify = True
        if isinstance(timeout, (list, tuple)):
            self.timeout = (float(timeout[0]), float(timeout[1]))
        else:
            self.timeout = (float(timeout), float(timeout))
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self._sleep = sleep
        self._log = log
        self._rand = rand
        self.user_agent = user_agent
        self.session = session if session is not None else requests.Session()
        # Every call made, for debugging and tests: (method, path, status or error, RequestID).
        self.history = []

    # -- helpers ---------------------------------------------------------
    def scrub(self, text):
        """Remove the token from a text (errors, logs)."""
        if isinstance(text, str) and self._token:
            return text.replace(self._token, "********")
        return text

    def log(self, message):
        if self._log is not None:
            self._log(self.scrub(message))

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
            "User-Agent": self.user_agent,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _delay(self, failures, retry_after):
        return backoff_delay(failures - 1, self.backoff, self.max_backoff, rand=self._rand,
                             retry_after=retry_after, max_retry_after=self.max_retry_after)

    @staticmethod
    def _never_sent(exc):
        """True when a requests exception shows the request never reached the service."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return True
        if isinstance(exc, requests.exceptions.SSLError):
            return True
        if isinstance(exc, requests.exceptions.ConnectionError):
            seen = set()
            cur = exc
            while cur is not None and id(cur) not in seen:
                seen.add(id(cur))
                name = type(cur).__name__
                if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError",
                            "ConnectionRefusedError", "gaierror"):
                    return True
                nxt = getattr(cur, "reason", None)
                if nxt is None and getattr(cur, "args", None):
                    nxt = cur.args[0] if isinstance(cur.args[0], BaseException) else None
                cur = nxt if nxt is not None else (cur.__cause__ or cur.__context__)
        return False

    def _error(self, cls, message, **kwargs):
        err = cls(message, **kwargs)
        return err.scrub([self._token])

    # -- one HTTP exchange (with same-origin redirects for GET) ---------------
    def _send(self, method, url, params, body, request_id):
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        for dummy in range(MAX_REDIRECTS + 1):
            resp = self.session.request(
                method, url, params=params, data=data,
                headers=self._headers(request_id, data is not None),
                timeout=self.timeout, verify=self.verify, allow_redirects=False,
            )
            if resp.status_code not in (301, 302, 303, 307, 308):
                return resp, url
            location = resp.headers.get("Location")
            target = urljoin(url, location) if location else None
            if method != "GET":
                raise self._error(
                    TransportError,
                    "the API answered this POST with a redirect to %s; POSTs follow no redirect, "
                    "check api_url (scheme, host and path)" % (target or "nowhere"),
                    status=resp.status_code, url=url, method=method, request_id=request_id)
            if target is None or origin_of(target) != self._origin:
                raise self._error(
                    TransportError,
                    "the API redirected to another origin (%s); not followed so that the token "
                    "stays with %s, check api_url" % (target, self.api_url),
                    status=resp.status_code, url=url, method=method, request_id=request_id)
            url, params = target, None
        raise self._error(TransportError, "the API redirected more than %d times; check api_url" % MAX_REDIRECTS,
                          url=url, method=method, request_id=request_id)

    # -- the public call -------------------------------------------------------
    def call(self, method, path, params=None, body=None, retry="safe", what=None):
        """Make one API call and return an :class:`Answer`.

        ``retry`` is ``"safe"`` (GET, keyed POST), ``"unsent"`` (unkeyed POST)
        or ``"never"``. ``what`` is the action in words for error messages
        ("create the order").
        """
        method = method.upper()
        url = self.url_for(path)
        what = what or "%s %s" % (method, path)
        request_ids = []
        attempt = 0
        while True:
            attempt += 1
            request_id = uuid.uuid4().hex
            request_ids.append(request_id)
            common = dict(url=url, method=method, request_id=request_id,
                          request_ids=request_ids, attempts=attempt)
            may_retry = attempt <= self.retries and retry != "never"
            try:
                resp, final_url = self._send(method, url, params, body, request_id)
            except WoTrusError:
                self.history.append((method, path, "redirect", request_id))
                raise
            except requests.exceptions.RequestException as exc:
                self.history.append((method, path, type(exc).__name__, request_id))
                unsent = self._never_sent(exc)
                if isinstance(exc, requests.exceptions.SSLError):
                    raise self._error(
                        TransportError,
                        "TLS verification of %s failed (%s); set ca_path to the CA bundle that signs the "
                        "API's certificate (validate_certs=false only for tests)" % (self.api_url, exc),
                        **common)
                if may_retry and (retry == "safe" or unsent):
                    delay = self._delay(attempt, None)
                    self.log("WoTrus: %s %s failed (%s, RequestID %s); retry %d of %d in %.1fs"
                             % (method, path, type(exc).__name__, request_id, attempt, self.retries, delay))
                    self._sleep(delay)
                    continue
                if unsent:
                    message = ("could not reach the WoTrus API at %s (%s); check api_url, DNS, proxy "
                               "and network" % (self.api_url, type(exc).__name__))
                else:
                    message = ("the connection to the WoTrus API broke while trying to %s (%s); the "
                               "outcome is unknown, read the order before trying again" % (what, type(exc).__name__))
                raise self._error(TransportError, message, error_msg=str(exc), **common)

            status = resp.status_code
            common["url"] = final_url
            self.history.append((method, path, status, request_id))
            envelope, parse_error = None, None
            try:
                envelope = resp.json()
            except ValueError as exc:
                parse_error = exc
            if envelope is not None and not isinstance(envelope, dict):
                parse_error, envelope = "not a JSON object", None
            error_msg = protocol.ci_get(envelope, "errorMsg") if envelope else None

            if status == 401:
                raise self._error(AuthError, "the API token was refused (HTTP 401); check api_token / WOTRUS_API_TOKEN",
                                  status=status, error_msg=error_msg, **common)
            if status in RETRY_STATUSES or status >= 500:
                if may_retry and (retry == "safe" or status in UNSENT_STATUSES):
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    delay = self._delay(attempt, retry_after)
                    self.log("WoTrus: %s %s answered HTTP %d (RequestID %s); retry %d of %d in %.1fs"
                             % (method, path, status, request_id, attempt, self.retries, delay))
                    self._sleep(delay)
                    continue
                if status in UNSENT_STATUSES:
                    message = "the WoTrus API is rate limiting or timing out (HTTP %d); try again later" % status
                elif retry == "safe":
                    message = "the WoTrus API failed (HTTP %d) while trying to %s; try again later" % (status, what)
                else:
                    message = ("the WoTrus API failed (HTTP %d) while trying to %s; the outcome is unknown, "
                               "read the order before trying again" % (status, what))
                raise self._error(TransportError, message, status=status, error_msg=error_msg, **common)
            if status >= 400:
                advice = STATUS_ADVICE.get(status, "the API refused the request (HTTP %d)" % status)
                raise self._error(ApiError, "could not %s: %s" % (what, advice),
                                  status=status, error_msg=error_msg, **common)
            if envelope is None or not any(k.lower() == "issuccess" for k in envelope):
                if may_retry and retry == "safe":
                    delay = self._delay(attempt, None)
                    self.log("WoTrus: %s %s answered something that is not a WoTrus envelope (RequestID %s); "
                             "retry %d of %d in %.1fs" % (method, path, request_id, attempt, self.retries, delay))
                    self._sleep(delay)
                    continue
                raise self._error(
                    TransportError,
                    "the answer to %s is not a WoTrus envelope (%s); check api_url points at the WoTrus API"
                    % (what, parse_error or "no isSuccess"),
                    status=status, **common)
            if not _truthy(protocol.ci_get(envelope, "isSuccess")):
                raise self._error(ApiError, "the WoTrus API refused to %s: %s"
                                  % (what, error_msg or "no reason given"),
                                  status=status, error_msg=error_msg, **common)
            return Answer(protocol.ci_get(envelope, "data"), envelope, status, final_url, method,
                          request_id, attempt)

    def get(self, path, params=None, what=None):
        return self.call("GET", path, params=params, retry="safe", what=what)

    def post(self, path, body, keyed=False, what=None):
        """POST ``body``. ``keyed=True`` when it carries an idempotenceID (retry-safe)."""
        return self.call("POST", path, body=body, retry="safe" if keyed else "unsent", what=what)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP stack of the collection's API clients (WoTrus, Sectigo, 今通国际).

:class:`HttpClient` is a ``requests`` session whose ``HTTPAdapter`` carries a
urllib3 ``Retry``: urllib3 decides which failures are retried and how often;
the small :class:`_Retry` subclass only chooses the wait (capped exponential
backoff with jitter, or the service's ``Retry-After``, capped), logs every
retry and sleeps through an injectable ``sleep``. Each call names its policy:

* :data:`READ` -- GETs and POSTs that only read (Sectigo's status): retried on
  connection errors (also after the request was sent), on HTTP 408, 429, 500,
  502, 503, 504, honouring ``Retry-After``.

A 429 or 503 that carries ``Retry-After`` is the service saying "later", not a
failure: that wait (what it asks, plus a jitter of up to ``backoff`` seconds so
that many clients throttled at once do not all come back in the same second)
does not count against ``retries``, as long as the waits of one call add up to
at most ``max_throttle_wait`` seconds; past that it counts like any retry.
* :data:`KEYED` -- POSTs that carry an idempotency key (WoTrus Create and
  Reissue carry ``idempotenceID``): retried like a read, the resend carries the
  same key and the same body, so the service cannot act twice.
* :data:`WRITE` -- POSTs without a key (WoTrus Cancel, Revoke, Notify; Sectigo
  upload; 今通国际 cancel): retried only when the request cannot have reached
  the service (connection refused, DNS, connect timeout). Every other failure
  goes back to the caller, which re-reads the state before it sends again
  (``_wotrus/orders.py``, ``_wotrus/certificates.py``); the error carries the
  service's ``Retry-After`` for that wait.

Nothing follows a redirect by default; ``follow_same_origin=True`` follows a
redirect that stays on the same scheme, host and port (so credentials in
headers never leave the configured origin).

Input checks of the connection options (``timeout``, ``ca_path``) are made
here, once, before any call, and raise the provider's input error naming the
option. Nothing here imports Ansible: the sandbox and the unit tests import
the clients without it.
"""

from __future__ import annotations

import math
import os
import random
import socket
import ssl
import time
import traceback
from urllib.parse import urljoin, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import RequestHistory, Retry
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules
    requests = None
    HTTPAdapter = None
    Retry = object
    RequestHistory = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

USER_AGENT = "wotrus.pki/0.1.0 (+ansible)"

READ = "read"
KEYED = "keyed"
WRITE = "write"
POLICIES = (READ, KEYED, WRITE)

# HTTP statuses after which a READ or KEYED call is sent again.
RETRY_STATUSES = frozenset([408, 429, 500, 502, 503, 504])
REDIRECT_STATUSES = frozenset([301, 302, 303, 307, 308])
MAX_REDIRECTS = 5

DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 1.0        # seconds before the first retry (then doubling)
DEFAULT_MAX_BACKOFF = 30.0   # cap of one backoff wait
DEFAULT_MAX_RETRY_AFTER = 120.0  # cap of a wait the service asks for
DEFAULT_MAX_THROTTLE_WAIT = 300.0  # Retry-After waits of one call that do not count as retries
# Answers whose Retry-After says "later" (rate limit, maintenance) rather than "failed".
THROTTLE_STATUSES = frozenset([429, 503])

# Words of OpenSSL errors that say the other end does not speak TLS at all.
_NOT_TLS_MARKERS = ("wrong version number", "wrong_version_number", "packet length too long",
                    "record layer failure", "http request")


def backoff_delay(attempt, base, cap, rand=random.random, retry_after=None, max_retry_after=None):
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0).

    With ``retry_after`` (seconds the service asked for): that, at most
    ``max_retry_after``, plus a jitter uniform in ``[0, min(base, that))`` -- never
    less than asked, and clients throttled together come back spread out.
    Otherwise "equal jitter": uniform in ``[c/2, c]`` with
    ``c = min(cap, base * 2**attempt)``; ``rand()`` gives a number in ``[0, 1)``.
    """
    if retry_after is not None:
        asked = retry_after if max_retry_after is None else min(retry_after, max_retry_after)
        return asked + rand() * min(base, asked)
    ceiling = min(cap, base * (2 ** attempt))
    return ceiling / 2.0 + rand() * ceiling / 2.0


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None.

    urllib3's own parser (the one its ``Retry`` uses), without its cap: the
    caller caps."""
    if value is None or not str(value).strip() or requests is None:
        return None
    try:
        return float(Retry(0, retry_after_max=float("inf")).parse_retry_after(str(value)))
    except TypeError:  # pragma: no cover - urllib3 < 2.6 has no retry_after_max (and no cap)
        try:
            return float(Retry(0).parse_retry_after(str(value)))
        except Exception:  # pylint: disable=broad-except
            return None
    except Exception:  # pylint: disable=broad-except  # urllib3's InvalidHeader, a date out of range
        return None


def origin_of(url):
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port)


def speaks_tls(host, port, timeout):
    """True when ``host:port`` completes a TLS handshake (certificate not checked).

    Asked only after a plain ``http://`` request broke without an answer: the
    usual cause is an ``http://`` URL pointing at an HTTPS port."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=host):
                return True
    except (OSError, ValueError):
        return False


class PlainHttpToTls(Exception):
    """An ``http://`` request went to a port that speaks TLS."""

    def __init__(self, host, port):
        super().__init__("%s:%s speaks TLS" % (host, port))
        self.host = host
        self.port = port


class HttpAnswer:
    """One HTTP answer, whatever its status: ``status``, ``headers``
    (case-insensitive), ``body`` (bytes), final ``url``, ``attempts``."""

    def __init__(self, status, headers=None, body=b"", url=None, attempts=1):
        self.status = status
        self.headers = requests.structures.CaseInsensitiveDict(headers or {}) if requests else dict(headers or {})
        self.body = body or b""
        self.url = url
        self.attempts = attempts

    def header(self, name):
        return self.headers.get(name)

    @property
    def retry_after(self):
        return parse_retry_after(self.header("Retry-After"))


class _Retry(Retry):
    """urllib3's ``Retry`` with the client's wait, log and sleep.

    urllib3 decides what is retried (connection errors, read errors and
    statuses per method) and counts; this class only (1) picks the wait,
    (2) logs each retry through the client, (3) stops at once when a plain
    ``http://`` request reached a TLS port (no retry can help)."""

    client = None  # the HttpClient, carried by new()

    def new(self, **kw):
        retry = super().new(**kw)
        retry.client = self.client
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if (error is not None and _pool is not None and getattr(_pool, "scheme", None) == "http"
                and self._is_read_error(error) and self.client is not None
                and speaks_tls(_pool.host, _pool.port, self.client.timeout[0])):
            raise PlainHttpToTls(_pool.host, _pool.port)
        if response is not None and self.client is not None and self.client.throttle_is_free(response):
            # The service asked to come back later: keep the retry budget, note the answer.
            history = self.history + (RequestHistory(method, url, None, response.status, None),)
            return self.new(history=history)
        return super().increment(method=method, url=url, response=response, error=error, _pool=_pool,
                                 _stacktrace=_stacktrace)

    def sleep(self, response=None):
        self.client.pause_before_retry(self, response)


def option_name(prefix, name):
    """What an error calls option ``name``: ``prefix + name``, or, when ``prefix`` is a mapping
    (the role's variable names, say), its entry for ``name``."""
    if isinstance(prefix, dict):
        return prefix.get(name, name)
    return prefix + name


def check_timeout(timeout, option, input_error):
    """``(connect, read)`` seconds from one number or a pair; each must be a number greater than 0.
    ``input_error(option, message)`` is raised otherwise. The role's preflight calls it too."""
    values = list(timeout) if isinstance(timeout, (list, tuple)) else [timeout, timeout]
    out = []
    for value in values:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = None
        if seconds is None or math.isnan(seconds) or seconds <= 0 or seconds == float("inf"):
            raise input_error(option, "must be a number of seconds greater than 0, got %r" % (value,))
        out.append(seconds)
    return tuple(out[:2])


def check_tls(validate_certs, ca_path, option, input_error):
    """What requests' ``verify`` gets: False, True, or the CA file or hashed directory, checked
    (``input_error(option, message)`` when it cannot work). The role's preflight calls it too."""
    # validate_certs=false wins over ca_path (as in ansible.builtin.uri); the modules warn.
    if not validate_certs:
        return False
    if not ca_path:
        return True
    path = os.path.expanduser(str(ca_path))
    if os.path.isdir(path):
        return path  # an OpenSSL hashed directory (c_rehash), as requests takes it
    if not os.path.exists(path):
        raise input_error(option, "%s does not exist; give the PEM file of the CA certificates that "
                                  "sign the API's certificate" % path)
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise input_error(option, "%s holds no PEM CA certificate that OpenSSL can load (%s)"
                          % (path, exc.reason or exc))
    except OSError as exc:
        raise input_error(option, "cannot read %s: %s" % (path, exc.strerror or exc))
    return path


class HttpClient:
    """One session per policy; ``request`` returns an :class:`HttpAnswer` for
    any HTTP status and raises ``transport_error`` when no answer came.

    ``timeout`` is seconds or ``(connect, read)``; ``option_prefix`` is put
    before the option names in errors (``sectigo_`` for the role's Sectigo
    options), ``url_option`` names the URL option (``api_url``, ``server_url``).
    ``secrets`` are scrubbed out of every error raised.
    """

    def __init__(self, provider_name, transport_error, input_error, validate_certs=True, ca_path=None,
                 timeout=30.0, retries=DEFAULT_RETRIES, backoff=DEFAULT_BACKOFF, max_backoff=DEFAULT_MAX_BACKOFF,
                 max_retry_after=DEFAULT_MAX_RETRY_AFTER, max_throttle_wait=DEFAULT_MAX_THROTTLE_WAIT, sleep=None, log=None, rand=random.random,
                 user_agent=USER_AGENT, secrets=(), option_prefix="", url_option="api_url", session=None):
        self.provider_name = provider_name
        self.url_option = url_option
        self.transport_error = transport_error
        self.input_error = input_error
        self.option_prefix = option_prefix
        self.secrets = [s for s in secrets if s]
        if requests is None:  # pragma: no cover - the modules check first
            raise transport_error("the Python library 'requests' is required")
        self.timeout = self._check_timeout(timeout)
        self.verify = self._check_tls(validate_certs, ca_path)
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self.max_throttle_wait = float(max_throttle_wait)
        self._throttle_waited = 0.0
        self._throttle_next = None
        self.user_agent = user_agent
        self._sleep = sleep or time.sleep
        self._log = log
        self._rand = rand
        self._retried = 0
        self._current = None
        if session is not None:
            self._sessions = dict((policy, session) for policy in POLICIES)
        else:
            self._sessions = dict((policy, self._new_session(policy)) for policy in POLICIES)

    # -- the connection options, checked once ---------------------------------
    def option(self, name):
        return option_name(self.option_prefix, name)

    def _check_timeout(self, timeout):
        return check_timeout(timeout, self.option("timeout"), self.input_error)

    def _check_tls(self, validate_certs, ca_path):
        return check_tls(validate_certs, ca_path, self.option("ca_path"), self.input_error)

    # -- sessions, retries ------------------------------------------------------
    def _new_session(self, policy):
        if policy == WRITE:
            # Only what cannot have reached the service: connection errors.
            retry = _Retry(total=self.retries, connect=self.retries, read=False, status=0, other=0,
                           redirect=False, status_forcelist=frozenset(), allowed_methods=frozenset(["GET"]),
                           respect_retry_after_header=False, raise_on_status=False, raise_on_redirect=False)
        else:
            retry = _Retry(total=self.retries, connect=self.retries, read=self.retries, status=self.retries,
                           other=0, redirect=False, status_forcelist=RETRY_STATUSES,
                           allowed_methods=frozenset(["GET", "HEAD", "POST"]),
                           respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False)
        retry.client = self
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def throttle_is_free(self, response):
        """True when ``response`` is a 429/503 with a Retry-After whose wait does not count as a retry:
        the throttle waits of this call stay within ``max_throttle_wait``. Fixes that wait."""
        self._throttle_next = None
        if response.status not in THROTTLE_STATUSES:
            return False
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return False
        delay = backoff_delay(0, self.backoff, self.max_backoff, rand=self._rand, retry_after=retry_after,
                              max_retry_after=self.max_retry_after)
        if self._throttle_waited + delay > self.max_throttle_wait:
            return False
        self._throttle_next = delay
        return True

    def pause_before_retry(self, retry, response):
        """Called by urllib3 (through _Retry.sleep) before each retry: wait and log."""
        throttled, self._throttle_next = self._throttle_next, None
        if throttled is not None:
            self._throttle_waited += throttled
            method, url, request_id = self._current or ("?", "?", None)
            self.log("%s: %s %s answered HTTP %s%s; the service asks to wait, next attempt in %.1fs "
                     "(Retry-After; %.0fs of at most %.0fs waited, not counted as a retry)" % (
                         self.provider_name, method, urlsplit(url).path, response.status,
                         (" (RequestID %s)" % request_id) if request_id else "", throttled,
                         self._throttle_waited, self.max_throttle_wait))
            self._sleep(throttled)
            return
        self._retried += 1
        retry_after = None
        if response is not None and response.status in Retry.RETRY_AFTER_STATUS_CODES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        delay = backoff_delay(self._retried - 1, self.backoff, self.max_backoff, rand=self._rand,
                              retry_after=retry_after, max_retry_after=self.max_retry_after)
        last = retry.history[-1] if retry.history else None
        if last is not None and last.status is not None:
            why = "answered HTTP %s" % last.status
        elif last is not None and last.error is not None:
            why = "failed (%s)" % describe(last.error)
        else:
            why = "failed"
        method, url, request_id = self._current or ("?", "?", None)
        self.log("%s: %s %s %s%s; retry %d of %d in %.1fs%s" % (
            self.provider_name, method, urlsplit(url).path, why,
            (" (RequestID %s)" % request_id) if request_id else "", self._retried, self.retries, delay,
            " (Retry-After)" if retry_after is not None else ""))
        self._sleep(delay)

    def wait(self, attempt, retry_after=None, what=""):
        """The wait before a caller's own resend number ``attempt`` (from 1): logged, then slept."""
        delay = backoff_delay(attempt - 1, self.backoff, self.max_backoff, rand=self._rand,
                              retry_after=retry_after, max_retry_after=self.max_retry_after)
        note = " (Retry-After)" if retry_after is not None else ""
        self.log("%s: %s; next attempt in %.1fs%s" % (self.provider_name, what, delay, note))
        self._sleep(delay)
        return delay

    # -- helpers ----------------------------------------------------------------
    def scrub(self, text):
        if isinstance(text, str):
            for secret in self.secrets:
                text = text.replace(secret, "********")
        return text

    def log(self, message):
        if self._log is not None:
            self._log(self.scrub(message))

    def error(self, cls, message, **fields):
        """``cls(message, **fields)`` with every secret scrubbed out."""
        return cls(message, **fields).scrub(self.secrets)

    # -- one call ---------------------------------------------------------------
    def request(self, method, url, policy=READ, what=None, params=None, data=None, files=None, headers=None,
                request_id=None, follow_same_origin=False):
        """Send one request (with urllib3's retries for ``policy``); return an HttpAnswer.

        ``what`` is the action in words for messages ("read order X").
        Raises ``transport_error`` (scrubbed; ``sent`` says whether the request
        may have reached the service) when no HTTP answer came.
        """
        method = method.upper()
        what = what or "%s %s" % (method, urlsplit(url).path)
        headers = dict(headers or {})
        headers.setdefault("User-Agent", self.user_agent)
        session = self._sessions[policy]
        self._retried = 0
        self._throttle_waited = 0.0
        self._throttle_next = None
        origin = origin_of(url)
        for dummy in range(MAX_REDIRECTS + 1):
            self._current = (method, url, request_id)
            try:
                resp = session.request(method, url, params=params, data=data, files=files, headers=headers,
                                       timeout=self.timeout, verify=self.verify, allow_redirects=False)
            except PlainHttpToTls as exc:
                raise self.error(
                    self.transport_error,
                    "%s: the server at %s:%s speaks TLS but the URL says http://: the URL scheme looks wrong, "
                    "use https://" % (self.option(self.url_option), exc.host, exc.port),
                    sent=False, url=url, method=method, request_id=request_id, attempts=self._retried + 1)
            except requests.exceptions.RequestException as exc:
                raise self._failure(exc, method, url, what, policy, request_id)
            answer = HttpAnswer(resp.status_code, resp.headers, resp.content, url, self._retried + 1)
            if not (follow_same_origin and resp.status_code in REDIRECT_STATUSES):
                return answer
            location = resp.headers.get("Location")
            target = urljoin(url, location) if location else None
            if target is None or origin_of(target) != origin:
                raise self.error(
                    self.transport_error,
                    "the %s API redirected to another origin (%s); not followed so that the credentials stay "
                    "with %s://%s:%s, check the URL" % (self.provider_name, target, origin[0], origin[1], origin[2]),
                    sent=True, status=resp.status_code, url=url, method=method, request_id=request_id)
            url, params = target, None
        raise self.error(self.transport_error, "the %s API redirected more than %d times; check the URL"
                         % (self.provider_name, MAX_REDIRECTS), url=url, method=method, request_id=request_id)

    def _failure(self, exc, method, url, what, policy, request_id):
        """The transport error for a requests exception: what happened, and what to do."""
        parts = urlsplit(url)
        where = "%s://%s" % (parts.scheme, parts.netloc)
        attempts = self._retried + 1
        common = dict(url=url, method=method, request_id=request_id, attempts=attempts)
        reason = describe(exc)
        if isinstance(exc, requests.exceptions.SSLError):
            if any(marker in reason.lower() for marker in _NOT_TLS_MARKERS):
                message = ("the server at %s does not speak TLS: the URL scheme looks wrong (https:// to a plain "
                           "HTTP port?) (%s)" % (where, reason))
            else:
                message = ("TLS verification of %s failed (%s); set %s to the CA bundle that signs the server's "
                           "certificate (%s=false only for tests)"
                           % (where, reason, self.option("ca_path"), self.option("validate_certs")))
            return self.error(self.transport_error, message, sent=False, **common)
        if never_sent(exc):
            message = ("could not reach the %s API at %s (%s); check the URL, DNS, proxy and network"
                       % (self.provider_name, where, reason))
            return self.error(self.transport_error, message, sent=False, **common)
        if method == "GET" or policy == READ:
            message = "could not %s: no answer from %s (%s); nothing was changed, try again later" % (
                what, where, reason)
        elif policy == KEYED:
            message = ("no answer from %s while trying to %s (%s); the outcome is unknown, and running again is "
                       "safe: the resend carries the same idempotence id" % (where, what, reason))
        else:
            message = ("no answer from %s while trying to %s (%s); the outcome is unknown: read the state "
                       "before trying again" % (where, what, reason))
        return self.error(self.transport_error, message, sent=True, **common)


def describe(exc):
    """A short reason for a requests/urllib3 exception: the innermost cause's class and text."""
    seen = set()
    cur = exc
    last = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        last = cur
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = None
            for arg in getattr(cur, "args", ()) or ():
                if isinstance(arg, BaseException):
                    nxt = arg
        cur = nxt
    text = str(last).strip()
    name = type(last).__name__
    if not text or text == name:
        return name
    return "%s: %s" % (name, text[:300])


def never_sent(exc):
    """True when a requests exception shows the request never reached the service."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    seen = set()
    cur = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if type(cur).__name__ in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError",
                                  "ConnectionRefusedError", "gaierror"):
            return True
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = None
            for arg in getattr(cur, "args", ()) or ():
                if isinstance(arg, BaseException):
                    nxt = arg
        cur = nxt if nxt is not None else (cur.__cause__ or cur.__context__)
    return False

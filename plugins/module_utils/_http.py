# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP pieces the API clients share (private to the collection).

* :func:`backoff_delay` -- the wait before a retry: capped exponential with
  jitter, or a ``Retry-After`` the caller honours (capped too). Which answers
  are retried, and how often, stays with each client.
* :func:`parse_retry_after` -- a ``Retry-After`` header in seconds.
* :func:`post_no_redirect` -- one POST through ``open_url`` that follows no
  redirect and hands back any HTTP status with its body (the Sectigo and
  今通国际 clients; the WoTrus client uses ``requests``).
"""

from __future__ import annotations

import email.utils
import random
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import open_url


def backoff_delay(attempt, base, cap, rand=random.random, retry_after=None, max_retry_after=None):
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0).

    With ``retry_after`` (seconds the service asked for): that, at most
    ``max_retry_after``. Otherwise uniform in ``[c/2, c]`` with
    ``c = min(cap, base * 2**attempt)``; ``rand()`` gives a number in ``[0, 1)``.
    """
    if retry_after is not None:
        return min(retry_after, max_retry_after)
    ceiling = min(cap, base * (2 ** attempt))
    return ceiling / 2.0 + rand() * ceiling / 2.0


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def post_no_redirect(url, body, headers, timeout, validate_certs, ca_path, unreachable):
    """POST ``body`` without following redirects; return ``(status, headers, body_bytes)`` for any HTTP status.

    When no HTTP answer arrives (connection, DNS, TLS), raise what
    ``unreachable(reason)`` returns.
    """
    try:
        response = open_url(url, data=body, headers=headers, method="POST", timeout=timeout,
                            validate_certs=validate_certs, ca_path=ca_path,
                            follow_redirects="none", use_netrc=False)
        return response.getcode(), dict(response.headers.items()), response.read()
    except HTTPError as exc:
        try:
            payload = exc.read()
        except Exception:  # pragma: no cover - a broken error body
            payload = b""
        return exc.code, dict(exc.headers.items()) if exc.headers else {}, payload
    except (URLError, OSError) as exc:
        raise unreachable(getattr(exc, "reason", exc))

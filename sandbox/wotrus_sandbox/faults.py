# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scripted faults: the next N answers of an endpoint go wrong in a chosen way.

Kinds (``sandbox/README.md`` describes each):

- ``http_500``        HTTP 500, ASP.NET-style error body; the request is not executed.
- ``http_503``        HTTP 503 (with ``Retry-After`` when given); not executed.
- ``http_429``        HTTP 429 with ``Retry-After`` (default 1 s); not executed.
- ``reset``           the connection is closed without an answer; not executed.
- ``commit_then_drop`` the request IS executed (an order is created, a revoke is
                       recorded...) and then the connection is closed without an answer.
- ``malformed_json``  HTTP 200, ``application/json``, a truncated body; not executed.
- ``is_success_false`` HTTP 200 with ``isSuccess: false`` and ``errorMsg``; not executed.
- ``slow``            the request runs after ``delay`` seconds, then answers normally; it runs
                      even when the client has given up meanwhile (``middleware.apply_fault``).

Any kind but ``commit_then_drop`` and ``slow`` accepts ``"execute": true`` to run
the request first and then answer with the fault (a commit the client cannot see).
Faults live in memory: a restart or ``POST /reset`` forgets them.
"""

from __future__ import annotations

import collections
import itertools

KINDS = ("http_500", "http_503", "http_429", "reset", "commit_then_drop", "malformed_json",
         "is_success_false", "slow")

ENDPOINTS = (
    "POST /v1/Order/Create",
    "GET /v1/Order/{id}",
    "GET /v1/Certificate/RetrievePem",
    "POST /v1/Order/Cancel",
    "POST /v1/Certificate/RevokeRequest",
    "POST /v1/Certificate/ReissueRequest",
    "POST /v1/Notification/email",
)


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self.queues = collections.defaultdict(collections.deque)
        self._ids = itertools.count(1)

    def add(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault is an object {endpoint, kind, count, ...}")
        unknown = set(spec) - {"endpoint", "kind", "count", "retry_after", "delay", "error_msg", "execute"}
        if unknown:
            raise FaultError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
        endpoint = spec.get("endpoint")
        if endpoint not in ENDPOINTS and endpoint != "*":
            raise FaultError("endpoint must be one of %s or \"*\"" % (ENDPOINTS,))
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultError("kind must be one of %s" % (KINDS,))
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaultError("count must be an integer >= 1")
        retry_after = spec.get("retry_after")
        if kind == "http_429" and retry_after is None:
            retry_after = 1
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))
                                        or retry_after < 0):
            raise FaultError("retry_after must be a number of seconds >= 0")
        delay = spec.get("delay", 2.0 if kind == "slow" else 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0 or delay > 600:
            raise FaultError("delay must be a number of seconds 0..600")
        execute = spec.get("execute", kind in ("commit_then_drop", "slow"))
        if not isinstance(execute, bool):
            raise FaultError("execute must be true or false")
        if kind == "commit_then_drop" and not execute:
            raise FaultError("commit_then_drop always executes the request")
        if kind == "slow" and not execute:
            raise FaultError("slow always executes the request")
        fault = {
            "id": next(self._ids), "endpoint": endpoint, "kind": kind, "count": count, "remaining": count,
            "retry_after": retry_after, "delay": delay, "execute": execute,
            "error_msg": spec.get("error_msg") or "sandbox: scripted failure (%s)" % kind,
        }
        self.queues[endpoint].append(fault)
        return fault

    def take(self, endpoint):
        """The fault for this request (consuming one of its count), or None."""
        for key in (endpoint, "*"):
            q = self.queues.get(key)
            if q:
                fault = q[0]
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    q.popleft()
                return dict(fault)
        return None

    def list(self):
        return [dict(f) for q in self.queues.values() for f in q]

    def clear(self):
        self.queues.clear()

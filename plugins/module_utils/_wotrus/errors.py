# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exceptions of the WoTrus client: a small tree, each with a sentence a
person can act on plus the structured fields of the call that failed.

Nothing here imports Ansible. Modules turn an error into ``fail_json`` kwargs
with :meth:`WoTrusError.to_result`.
"""

from __future__ import annotations


class WoTrusError(Exception):
    """Base class. ``message`` is the sentence a person reads; the other
    fields describe the call (HTTP status, URL, RequestID, provider errorMsg).

    The client scrubs the API token out of every field before it raises, so
    ``str(err)`` and ``err.to_result()`` are safe to show and to log.
    """

    kind = "error"

    def __init__(self, message, status=None, url=None, request_id=None, error_msg=None,
                 method=None, request_ids=None, attempts=None, details=None):
        super(WoTrusError, self).__init__(message)
        self.message = message
        self.status = status
        self.url = url
        self.method = method
        self.request_id = request_id
        self.request_ids = list(request_ids or ([request_id] if request_id else []))
        self.error_msg = error_msg
        self.attempts = attempts
        self.details = dict(details or {})

    def context(self):
        """The bracketed tail of the message: what a support ticket needs."""
        parts = []
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        if self.url:
            parts.append("%s %s" % (self.method, self.url) if self.method else self.url)
        if self.request_id:
            parts.append("RequestID %s" % self.request_id)
        if self.attempts and self.attempts > 1:
            parts.append("%d attempts" % self.attempts)
        if self.error_msg:
            parts.append("errorMsg: %s" % self.error_msg)
        return "; ".join(parts)

    def __str__(self):
        ctx = self.context()
        return "%s [%s]" % (self.message, ctx) if ctx else self.message

    def to_result(self):
        """kwargs for ``module.fail_json``: ``msg`` plus the structured fields."""
        result = dict(
            msg=str(self),
            error_kind=self.kind,
            http_status=self.status,
            url=self.url,
            request_id=self.request_id,
            error_msg=self.error_msg,
        )
        if len(self.request_ids) > 1:
            result["request_ids"] = list(self.request_ids)
        result.update(self.details)
        return result

    def scrub(self, secrets):
        """Replace every secret in every text field (done by the client)."""
        def clean(value):
            if isinstance(value, str):
                for secret in secrets:
                    if secret:
                        value = value.replace(secret, "********")
            elif isinstance(value, dict):
                value = dict((k, clean(v)) for k, v in value.items())
            elif isinstance(value, list):
                value = [clean(v) for v in value]
            return value
        self.message = clean(self.message)
        self.url = clean(self.url)
        self.error_msg = clean(self.error_msg)
        self.details = clean(self.details)
        self.args = (self.message,)
        return self


class AuthError(WoTrusError):
    """HTTP 401: the token is missing or wrong."""
    kind = "auth"


class ApiError(WoTrusError):
    """The API answered and refused: ``isSuccess: false`` or an HTTP 4xx."""
    kind = "api"


class TransportError(WoTrusError):
    """No usable answer: connection, TLS, timeout, 5xx/429 after all retries,
    a redirect we do not follow, or a body that is not a WoTrus envelope."""
    kind = "transport"


class OrderStateError(WoTrusError):
    """The order is in a state in which the requested action cannot happen
    (e.g. cancel an issued order, wait on a rejected one)."""
    kind = "order_state"


class NotIssuedYet(WoTrusError):
    """The order has no certificate yet (and waiting was not asked for)."""
    kind = "not_issued"


class WaitTimeout(NotIssuedYet):
    """Waiting for issuance ran out of time."""
    kind = "wait_timeout"


class InputError(WoTrusError):
    """A module option is wrong; raised before any call. ``option`` names it."""
    kind = "input"

    def __init__(self, option, message, **kwargs):
        self.option = option
        super(InputError, self).__init__("%s: %s" % (option, message), **kwargs)

    def to_result(self):
        result = super(InputError, self).to_result()
        result["option"] = self.option
        return result

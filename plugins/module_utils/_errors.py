# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception tree of the collection's API clients.

:class:`PkiError` is the base of the WoTrus, Sectigo and 今通国际 errors
(``_wotrus/errors.py``, ``_sectigo/errors.py``, ``_jintong/errors.py``). Each
error holds a sentence a person can act on (``message``) and the structured
fields of the call that failed; :meth:`PkiError.to_result` gives them, with
the same names for every provider, as keyword arguments for ``fail_json``.

The clients scrub their secrets (API token, passwords, signing key, upload
token) out of every field before they raise (:meth:`PkiError.scrub`), so
``str(err)`` and ``err.to_result()`` are safe to show and to log.

Nothing here imports Ansible.
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

SCRUBBED = "********"


class PkiError(Exception):
    """Base class.

    ``status`` the HTTP status, ``url`` and ``method`` of the call,
    ``request_id`` the WoTrus ``RequestID`` (None for the other providers),
    ``error_msg`` / ``error_code`` what the provider said (WoTrus ``errorMsg``;
    Sectigo ``errorMessage`` / ``errorCode``; 今通国际 ``Description`` /
    ``MessageCode``), ``attempts`` how many times the request was sent,
    ``retry_after`` the seconds the provider asked to wait (its last
    ``Retry-After``), ``option`` the module option an input error is about,
    ``details`` further result fields (``status`` of an order, ...).
    """

    kind = "error"
    provider = None

    def __init__(self, message, status=None, url=None, method=None, request_id=None, error_msg=None,
                 error_code=None, attempts=None, retry_after=None, option=None, details=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url
        self.method = method
        self.request_id = request_id
        self.error_msg = error_msg
        self.error_code = error_code
        self.attempts = attempts
        self.retry_after = retry_after
        self.option = option
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
        if self.error_code is not None:
            parts.append("errorCode %s" % self.error_code)
        if self.error_msg:
            parts.append("errorMsg: %s" % self.error_msg)
        return "; ".join(parts)

    def __str__(self):
        ctx = self.context()
        return "%s [%s]" % (self.message, ctx) if ctx else self.message

    def to_result(self):
        """Keyword arguments for ``module.fail_json``: ``msg`` plus the structured fields.

        ``msg``, ``error_kind``, ``provider``, ``http_status``, ``url``, ``method``,
        ``request_id``, ``error_msg``, ``error_code``, ``attempts``; ``option``
        for input errors; ``retry_after`` when the provider asked to wait; then
        ``details``.
        """
        result = dict(
            msg=str(self),
            error_kind=self.kind,
            provider=self.provider,
            http_status=self.status,
            url=self.url,
            method=self.method,
            request_id=self.request_id,
            error_msg=self.error_msg,
            error_code=self.error_code,
            attempts=self.attempts,
        )
        if self.option is not None:
            result["option"] = self.option
        if self.retry_after is not None:
            result["retry_after"] = self.retry_after
        result.update(self.details)
        return result

    def scrub(self, secrets):
        """Replace every secret in every text field; returns ``self``."""
        secrets = [s for s in secrets if s]

        def clean(value):
            if isinstance(value, str):
                for secret in secrets:
                    value = value.replace(secret, SCRUBBED)
            elif isinstance(value, dict):
                value = {k: clean(v) for k, v in value.items()}
            elif isinstance(value, (list, tuple)):
                value = [clean(v) for v in value]
            return value

        self.message = clean(self.message)
        self.url = clean(self.url)
        self.error_msg = clean(self.error_msg)
        self.error_code = clean(self.error_code)
        self.details = clean(self.details)
        self.args = (self.message,)
        return self

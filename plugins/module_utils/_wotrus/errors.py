# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exceptions of the WoTrus client: the WoTrus branch of the collection's
one error tree (``module_utils/_errors.py``). Modules turn an error into
``fail_json`` kwargs with :meth:`PkiError.to_result`.

Nothing here imports Ansible.
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError


class WoTrusError(PkiError):
    """Base class of every WoTrus error."""
    provider = "wotrus"


class AuthError(WoTrusError):
    """HTTP 401: the token is missing or wrong."""
    kind = "auth"


class ApiError(WoTrusError):
    """The API answered and refused: ``isSuccess: false`` or an HTTP 4xx."""
    kind = "api"


class TransportError(WoTrusError):
    """No usable answer: connection, TLS, timeout, 5xx/429 after all retries,
    a redirect we do not follow, or a body that is not a WoTrus envelope.

    ``sent`` is False when the request cannot have reached the service
    (connection refused, DNS, TLS handshake), True when it may have."""
    kind = "transport"

    def __init__(self, message, sent=True, **kwargs):
        super().__init__(message, **kwargs)
        self.sent = sent


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
        super().__init__("%s: %s" % (option, message), option=option, **kwargs)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WoTrus-compatible API application: its routes, by endpoint group.

=====================  ==========================================================
``middleware.py``      every request: count, log, token check, scripted faults
``orders.py``          Create, the order query, Cancel, the pendingLink page
``certificates.py``    RetrievePem, RevokeRequest, ReissueRequest
``notify.py``          Notification/email
``ordering.py``        what Create and Reissue share (new orders, idempotency)
``answers.py``         the envelope, strict request bodies
``sandbox.py``         ``Sandbox``, the state every handler shares (``app[SANDBOX]``)
=====================  ==========================================================

The management API is ``manage.py``, the push sender ``push.py``.
"""

from __future__ import annotations

from aiohttp import web

from wotrus_sandbox import certificates, notify, orders
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.middleware import api_middleware
from wotrus_sandbox.sandbox import PENDING_LINK_PATH, SANDBOX, Sandbox

__all__ = ["Sandbox", "create_api_app"]


def create_api_app(sb, sub_apps=None):
    """The HTTPS application on ``sb``, with the sub-apps (``{"/sectigo": app}``) mounted."""
    app = web.Application(middlewares=[api_middleware], client_max_size=32 * 1024 * 1024)
    app[SANDBOX] = sb
    app.router.add_post(protocol.PATH_CREATE, orders.create)
    app.router.add_post(protocol.PATH_CANCEL, orders.cancel)
    app.router.add_get(protocol.PATH_ORDER.replace("{order_id}", "{id}"), orders.get_order)
    app.router.add_get(protocol.PATH_RETRIEVE_PEM, certificates.retrieve)
    app.router.add_post(protocol.PATH_REVOKE, certificates.revoke)
    app.router.add_post(protocol.PATH_REISSUE, certificates.reissue)
    app.router.add_post(protocol.PATH_NOTIFY, notify.notify)
    app.router.add_get(PENDING_LINK_PATH, orders.pending_link_page)
    for prefix, sub in (sub_apps or {}).items():
        app.add_subapp(prefix, sub)
    return app

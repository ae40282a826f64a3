# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the partner-API sub-applications (``sectigo.py``, ``jintong.py``) share.

Each keeps a book of orders (saved as JSON in the state directory, seeded from
``settings["orders"]``), one state object per process and state directory (the
sandbox builds one app for its HTTPS port and one for its plain-HTTP port),
and the ``/_manage`` routes for tests, guarded by ``X-Sandbox-Token`` when the
settings hold a ``manage_token``.
"""

from __future__ import annotations

import hmac
import json
import os

from aiohttp import web


class OrderState:
    """Orders by ``id_field``, kept in ``<state_dir>/<state_file>`` (in memory without a state directory)."""

    def __init__(self, settings, state_dir, state_file, make_order, id_field, ensure_ascii=True):
        self.manage_token = settings.get("manage_token")
        self.path = os.path.join(str(state_dir), state_file) if state_dir else None
        self._make_order = make_order
        self._id_field = id_field
        self._ensure_ascii = ensure_ascii
        self.orders = {}
        if self.path and os.path.exists(self.path):
            with open(self.path) as handle:
                self.orders = json.load(handle).get("orders", {})
        for definition in settings.get("orders") or []:
            order = make_order(definition)
            self.orders.setdefault(order[id_field], order)

    def save(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump({"orders": self.orders}, handle, ensure_ascii=self._ensure_ascii)
        os.replace(tmp, self.path)

    def make_order(self, definition):
        """An order record from a definition; raises ValueError (or TypeError) when it is not one."""
        return self._make_order(definition)

    def add(self, order):
        """Add (or replace) ``order``, saved at once; True when it replaced one."""
        existed = order[self._id_field] in self.orders
        self.orders[order[self._id_field]] = order
        self.save()
        return existed


class SharedStates:
    """``states(settings, state_dir)``: the one state object per process and state directory.

    Both apps the sandbox builds (HTTPS and plain HTTP) see the same orders when
    they share a state directory; without one, every call makes a new state.
    """

    def __init__(self, factory):
        self._factory = factory
        self._states = {}

    def __call__(self, settings, state_dir):
        if state_dir is None:
            return self._factory(settings, None)
        key = os.path.realpath(str(state_dir))
        if key not in self._states:
            self._states[key] = self._factory(settings, state_dir)
        return self._states[key]


def manage_auth(state_key):
    """Middleware: with a ``manage_token``, ``/_manage/`` needs header ``X-Sandbox-Token``."""
    @web.middleware
    async def _manage_auth(request, handler):
        state = request.app[state_key]
        if state.manage_token and "/_manage/" in request.path:
            given = request.headers.get("X-Sandbox-Token", "")
            if not hmac.compare_digest(given.encode(), state.manage_token.encode()):
                return web.json_response({"error": "X-Sandbox-Token required"}, status=401)
        return await handler(request)
    return _manage_auth


def no_such_order():
    return web.json_response({"error": "no such order"}, status=404)


def add_manage_routes(app, state_key, id_name):
    """``POST /_manage/orders`` (create or replace), ``GET /_manage/orders/{<id_name>}``, ``GET /_manage/stats``."""

    async def manage_create_order(request):
        state = request.app[state_key]
        try:
            order = state.make_order(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        existed = state.add(order)
        return web.json_response(order, status=200 if existed else 201)

    async def manage_get_order(request):
        order = request.app[state_key].orders.get(request.match_info[id_name])
        if order is None:
            return no_such_order()
        return web.json_response(order)

    async def manage_stats(request):
        state = request.app[state_key]
        return web.json_response(dict(state.stats, orders=len(state.orders)))

    app.router.add_post("/_manage/orders", manage_create_order)
    app.router.add_get("/_manage/orders/{%s}" % id_name, manage_get_order)
    app.router.add_get("/_manage/stats", manage_stats)

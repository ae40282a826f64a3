# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ansible-rulebook event source: the WoTrus push (API text 8.1), signed and checked."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import importlib.util
import json
import logging
import os
import pathlib
import ssl
import time

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive WoTrus order pushes, signed, and pass each on once.
description:
  - An ansible-rulebook event source that receives the push of the WoTrus partner API (API text 8.1,
    C({"dataAction": "order", "orderId": ..., "isIssued": ..., "isRevoked": ...})) over HTTP(S).
  - Every request is authenticated first (an aiohttp middleware) by the signature the API sends since
    V1.04. Assumption (the texts name no algorithm): hex HMAC-SHA256 of the raw body with a shared secret,
    in a header; it is the rule of the collection's C(plugins/module_utils/_wotrus/protocol.py), which this
    source loads from the collection it ships in. The comparison takes constant time.
  - Answers C(401) and passes nothing on when the signature is missing or wrong; C(400) for a body that is
    not JSON or not the shape of the text; C(413) for a body larger than O(max_body_size); C(404) for
    another path; C(405) for another method than POST.
  - The sender tries up to 3 times until it gets HTTP 200. A body received again within O(replay_window)
    seconds (a redelivery, or a replay of a captured push) is answered C(200) and passed on no second time.
    A push older than what was already received for its order (C(isRevoked) false after true, C(isIssued)
    false after true), or a body received again later than O(replay_window) but within O(replay_memory),
    is stale: answered C(200), logged, not passed on. The memory is kept in the process (a restart forgets
    it); a push is a hint only, and the playbook it starts reads the order through the API.
  - The event of an order push is C({"data_action": "order", "order_id": ..., "issued": true|false,
    "revoked": true|false, "received_at": "<UTC ISO 8601>"}). A push with another C(dataAction) (the
    texts also name organisation pushes, without their body) is passed on as
    C({"data_action": "<its value>", "payload": <the body>, "received_at": ...}) so that a rule can match
    its type. No request header (so neither the signature nor any authorization) reaches an event.
  - Refuses to start without a secret, unless O(insecure=true).
options:
  host:
    description:
      - The address to listen on. Use C(0.0.0.0) to accept pushes from other machines (best behind a
        TLS-terminating reverse proxy, or with O(certfile)).
    type: str
    default: "127.0.0.1"
  port:
    description:
      - The TCP port to listen on.
    type: int
    required: true
  path:
    description:
      - The URL path the pushes are POSTed to (the path of the push URL configured at WoTrus).
    type: str
    default: "/wotrus/push"
  certfile:
    description:
      - A PEM certificate (with its chain) to serve HTTPS. Without it the source speaks plain HTTP.
    type: str
  keyfile:
    description:
      - The private key of O(certfile), when it is not in O(certfile).
    type: str
  secret:
    description:
      - The shared secret of the push signature. Never logged.
      - When unset, the environment variable named by O(secret_env) gives it.
    type: str
  secret_env:
    description:
      - The environment variable that holds the secret when O(secret) is not set.
    type: str
    default: WOTRUS_PUSH_SECRET
  signature_header:
    description:
      - The request header that carries the signature.
    type: str
    default: X-WoTrus-Signature
  max_body_size:
    description:
      - The largest body accepted, in bytes; a larger one is answered C(413).
    type: int
    default: 16384
  replay_window:
    description:
      - Seconds during which a body received again is a redelivery (C(200), no second event).
    type: float
    default: 600
  replay_memory:
    description:
      - Seconds a received body and the last state of each order are remembered; a body received again
        after O(replay_window) but within this is stale (C(200), no event). At least O(replay_window).
    type: float
    default: 604800
  insecure:
    description:
      - Start without a secret and pass on unsigned pushes. Only for a first test; never where the port can be
        reached by others.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Deploy WoTrus certificates when their order is issued
  hosts: all
  sources:
    - wotrus.pki.wotrus_push:
        host: 0.0.0.0
        port: 5000
        path: /wotrus/push
        certfile: /etc/eda/push.crt
        keyfile: /etc/eda/push.key
        # The secret comes from the environment variable WOTRUS_PUSH_SECRET.
  rules:
    - name: An order was issued or revoked
      condition: event.data_action == "order"
      action:
        run_playbook:
          name: wotrus.pki.on_push
          extra_vars:
            wotrus_push_order_id: "{{ event.order_id }}"
"""

logger = logging.getLogger(__name__)

SOURCE = "wotrus.pki.wotrus_push"
DEFAULT_PATH = "/wotrus/push"
DEFAULT_SECRET_ENV = "WOTRUS_PUSH_SECRET"
DEFAULT_MAX_BODY = 16384
DEFAULT_REPLAY_WINDOW = 600.0
DEFAULT_REPLAY_MEMORY = 7 * 86400.0
# The most bodies remembered at once (the oldest are forgotten first).
MAX_REMEMBERED = 100000
KNOWN_OPTIONS = frozenset([
    "host", "port", "path", "certfile", "keyfile", "secret", "secret_env", "signature_header",
    "max_body_size", "replay_window", "replay_memory", "insecure",
])

SETTINGS_KEY = web.AppKey("wotrus_push_settings", dict)
QUEUE_KEY = web.AppKey("wotrus_push_queue", asyncio.Queue)
DELIVERIES_KEY = web.AppKey("wotrus_push_deliveries", object)


def load_protocol():
    """The collection's protocol.py, loaded from beside this file.

    ansible-rulebook runs an event source with runpy.run_path from the installed collection
    (ansible_collections/wotrus/pki/extensions/eda/plugins/event_source/), without ansible-core's
    collection loader: an ``ansible_collections.wotrus.pki`` import works only when the collections
    directory happens to be on sys.path. The file itself is always there, four directories up, and
    imports nothing but the standard library: load it by its path, so the signature rule stays in
    one place.
    """
    root = pathlib.Path(__file__).resolve().parents[4]
    path = root / "plugins" / "module_utils" / "_wotrus" / "protocol.py"
    spec = importlib.util.spec_from_file_location("_wotrus_pki_push_protocol", str(path))
    if spec is None or not path.is_file():
        raise RuntimeError("%s: %s is missing; install the whole wotrus.pki collection" % (SOURCE, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = load_protocol()


def _number(args, name, default, minimum, kind=float):
    value = args.get(name, default)
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError("%s: %s must be a number, got %r" % (SOURCE, name, value)) from None
    if number < minimum:
        raise ValueError("%s: %s must be at least %s, got %r" % (SOURCE, name, minimum, value))
    return number


def parse_args(args, environ=None):
    """The source's settings from its rulebook arguments; ValueError names the option."""
    environ = os.environ if environ is None else environ
    args = dict(args or {})
    unknown = sorted(set(args) - KNOWN_OPTIONS)
    if unknown:
        known = ", ".join(sorted(KNOWN_OPTIONS))
        raise ValueError("%s: unknown option(s) %s; known: %s" % (SOURCE, ", ".join(unknown), known))
    if "port" not in args:
        raise ValueError("%s: port is required" % SOURCE)
    port = _number(args, "port", None, 1, int)
    if port > 65535:
        raise ValueError("%s: port must be 1..65535, got %r" % (SOURCE, args["port"]))
    path = str(args.get("path") or DEFAULT_PATH)
    if not path.startswith("/"):
        raise ValueError("%s: path must start with /, got %r" % (SOURCE, path))
    insecure = args.get("insecure", False)
    if not isinstance(insecure, bool):
        raise ValueError("%s: insecure must be true or false, got %r" % (SOURCE, insecure))
    secret_env = str(args.get("secret_env") or DEFAULT_SECRET_ENV)
    secret = args.get("secret") or environ.get(secret_env) or None
    if secret is not None and not isinstance(secret, str):
        raise ValueError("%s: secret must be a string" % SOURCE)
    if secret is None and not insecure:
        raise ValueError("%s: no secret: set the option secret or the environment variable %s (the push_secret "
                         "agreed with WoTrus); only for a test, insecure: true accepts unsigned pushes"
                         % (SOURCE, secret_env))
    header = str(args.get("signature_header") or protocol.PUSH_SIGNATURE_HEADER)
    certfile, keyfile = args.get("certfile"), args.get("keyfile")
    if keyfile and not certfile:
        raise ValueError("%s: keyfile needs certfile" % SOURCE)
    window = _number(args, "replay_window", DEFAULT_REPLAY_WINDOW, 0)
    memory = _number(args, "replay_memory", DEFAULT_REPLAY_MEMORY, 0)
    if memory < window:
        raise ValueError("%s: replay_memory (%s) must be at least replay_window (%s)" % (SOURCE, memory, window))
    return dict(host=str(args.get("host") or "127.0.0.1"), port=port, path=path, certfile=certfile,
                keyfile=keyfile, secret=secret, signature_header=header,
                max_body_size=_number(args, "max_body_size", DEFAULT_MAX_BODY, 1, int),
                replay_window=window, replay_memory=memory, insecure=insecure)


def ssl_context(settings):
    if not settings["certfile"]:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(settings["certfile"], settings["keyfile"] or None)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError("%s: certfile/keyfile cannot be loaded: %s" % (SOURCE, exc)) from None
    return context


class Deliveries:
    """What was received: each body's digest, and each order's latest state, with times."""

    NEW, REDELIVERY, STALE = "new", "redelivery", "stale"

    def __init__(self, window, memory, clock=time.monotonic):
        self.window = window
        self.memory = memory
        self.clock = clock
        self.bodies = {}   # sha256 of the raw body -> first received (clock)
        self.orders = {}   # order id -> (issued, revoked, when)

    def _forget(self, now):
        for table in (self.bodies, self.orders):
            while table:
                key = next(iter(table))
                first = table[key] if table is self.bodies else table[key][2]
                if now - first <= self.memory and len(table) <= MAX_REMEMBERED:
                    break
                del table[key]

    def judge(self, raw, facts):
        """NEW (pass it on), REDELIVERY or STALE (answer 200, pass nothing on); remembers a NEW one."""
        now = self.clock()
        self._forget(now)
        digest = hashlib.sha256(raw).hexdigest()
        if digest in self.bodies:
            return self.REDELIVERY if now - self.bodies[digest] <= self.window else self.STALE
        order_id = facts.get("order_id")
        if order_id is not None and order_id in self.orders:
            issued, revoked, _when = self.orders[order_id]
            if (issued and not facts["issued"]) or (revoked and not facts["revoked"]):
                return self.STALE
        self.bodies[digest] = now
        if order_id is not None:
            self.orders.pop(order_id, None)
            self.orders[order_id] = (facts["issued"], facts["revoked"], now)
        return self.NEW


def utc_now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@web.middleware
async def authenticate(request, handler):
    """Route, size and signature, in that order, before the handler sees the body."""
    routing_error = request.match_info.http_exception
    if routing_error is not None:
        raise routing_error
    settings = request.app[SETTINGS_KEY]
    if request.content_length is not None and request.content_length > settings["max_body_size"]:
        raise web.HTTPRequestEntityTooLarge(max_size=settings["max_body_size"], actual_size=request.content_length)
    raw = await request.read()  # client_max_size answers 413 for a longer chunked body
    if settings["secret"] is not None:
        signature = request.headers.get(settings["signature_header"])
        if not signature:
            logger.warning("%s: push from %s without the %s header: refused (401)", SOURCE, request.remote,
                           settings["signature_header"])
            raise web.HTTPUnauthorized(text="missing signature\n")
        if not protocol.verify_push_signature(settings["secret"], raw, signature):
            logger.warning("%s: push from %s with a wrong signature: refused (401)", SOURCE, request.remote)
            raise web.HTTPUnauthorized(text="wrong signature\n")
    return await handler(request)


async def receive(request):
    raw = await request.read()  # the bytes the middleware read and checked (aiohttp keeps them)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="the body is not JSON\n") from None
    try:
        facts = protocol.read_push(payload)
    except protocol.PushShapeError as exc:
        raise web.HTTPBadRequest(text="not a WoTrus push: %s\n" % exc) from None
    verdict = request.app[DELIVERIES_KEY].judge(raw, facts)
    what = "%s %s" % (facts["data_action"], facts.get("order_id") or "")
    if verdict == Deliveries.REDELIVERY:
        logger.info("%s: %s received again within replay_window: acknowledged, not passed on", SOURCE, what)
        return web.Response(text="duplicate delivery: already received\n")
    if verdict == Deliveries.STALE:
        logger.warning("%s: stale push (%s): older than what was received before; acknowledged, not passed on",
                       SOURCE, what)
        return web.Response(text="stale push: not passed on\n")
    event = dict(facts, received_at=utc_now_iso())
    await request.app[QUEUE_KEY].put(event)
    logger.info("%s: push %s passed on (issued=%s revoked=%s)", SOURCE, what, facts.get("issued"),
                facts.get("revoked"))
    return web.Response(text="ok\n")


def make_app(queue, settings, clock=time.monotonic):
    """The aiohttp application (tests drive it with aiohttp's test client)."""
    app = web.Application(middlewares=[authenticate], client_max_size=settings["max_body_size"])
    app[SETTINGS_KEY] = settings
    app[QUEUE_KEY] = queue
    app[DELIVERIES_KEY] = Deliveries(settings["replay_window"], settings["replay_memory"], clock)
    app.router.add_post(settings["path"], receive)
    return app


async def main(queue, args):
    """Receive WoTrus pushes and put one event per new push on the queue."""
    settings = parse_args(args)
    if settings["secret"] is None:
        logger.warning("%s: insecure: true and no secret: unsigned pushes are accepted", SOURCE)
    runner = web.AppRunner(make_app(queue, settings))
    await runner.setup()
    site = web.TCPSite(runner, settings["host"], settings["port"], ssl_context=ssl_context(settings))
    await site.start()
    logger.info("%s: listening on %s://%s:%d%s", SOURCE, "https" if settings["certfile"] else "http",
                settings["host"], settings["port"], settings["path"])
    try:
        await asyncio.Future()
    except asyncio.CancelledError:
        logger.info("%s: stopped", SOURCE)
    finally:
        await runner.cleanup()


if __name__ == "__main__":

    class PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(json.dumps(item))

    asyncio.run(main(PrintQueue(), {"port": 5000, "insecure": not os.environ.get(DEFAULT_SECRET_ENV)}))

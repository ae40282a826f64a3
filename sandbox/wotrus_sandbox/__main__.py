# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wotrus-sandbox: a local WoTrus-compatible API that really signs certificates.

Run ``wotrus-sandbox --help`` for every flag; sandbox/README.md describes the
service, the management API, the fault kinds and every knob.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ipaddress
import json
import logging
import os
import pathlib
import signal
import ssl
import sys

from aiohttp import web

from wotrus_sandbox import config
from wotrus_sandbox import dcv
from wotrus_sandbox import states
from wotrus_sandbox.app import Sandbox, create_api_app
from wotrus_sandbox.manage import create_mgmt_app

log = logging.getLogger("wotrus_sandbox")

SUB_APPS = (("/sectigo", "wotrus_sandbox.sectigo"), ("/jintong", "wotrus_sandbox.jintong"))

EPILOG = """\
State directory contents:
  endpoints.json   {"api_url", "mgmt_url", "http_url" (with --http-port), "pid", "roots"}; written
                   atomically once every server listens, removed on a clean stop
  roots.pem        trust anchors (root A; root B too when cross-signing is on)
  sm2-roots.pem    the SM2 root (the anchor of SM2 products' signing and encryption certificates)
  ca/              CA keys (0600) and certificates; kept across restarts and /reset
  server.pem/.key  the HTTPS server certificate (127.0.0.1, ::1, localhost), new at each start
  sandbox.sqlite3  orders, certificates, idempotence keys, counters, push and notification logs
  sandbox.log      one line per API request (method, path, RequestID, status), faults, pushes

Management API (plain HTTP, loopback, no auth) at mgmt_url:
  POST /reset  GET /roots  GET /sm2-roots  GET /intermediates  GET /orders  GET /orders/{id}
  POST /orders/{id}/state {"status": S, "is_pay": N}  GET /idempotence  GET /counts
  POST|GET|DELETE /faults  GET /crl  GET /status/{serial_hex}  GET /push-log
  GET /notifications  GET|POST /config
HTTP DCV (--dcv-mode http): backend: sectigo orders leave pendingDCV only once
  http://NAME:PORT/.well-known/pki-validation/<MD5>.txt holds <SHA256>, sectigo.com
  [, uniqueValue] for every name; NAME is reached at its --dcv-resolve loopback address.
Fault kinds: http_500 http_503 http_429 reset commit_then_drop malformed_json is_success_false slow

See sandbox/README.md for the details of each.
"""


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _delay(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError("use STATE=SECONDS (STATE may be 'default')")
    state, _, secs = text.partition("=")
    try:
        value = float(secs)
    except ValueError:
        raise argparse.ArgumentTypeError("%r: seconds must be a number" % text) from None
    return state.strip(), value


def _cross_sign(text):
    if text != config.CROSS_SIGN_R2_SELF_SIGNED:
        raise argparse.ArgumentTypeError("the only value --cross-sign takes is %s (or none)" % config.CROSS_SIGN_R2_SELF_SIGNED)
    return text


def _resolve(text):
    name, sep, addr = text.partition("=")
    if not sep or not name.strip() or not addr.strip():
        raise argparse.ArgumentTypeError("use NAME=ADDRESS, e.g. host1.example.test=127.0.0.2")
    return name.strip(), addr.strip()


def build_parser():
    p = argparse.ArgumentParser(
        prog="wotrus-sandbox", description=__doc__.splitlines()[0] + " Defaults in brackets.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("servers")
    g.add_argument("--state-dir", required=True, type=pathlib.Path,
                   help="directory for the CA, the SQLite state, logs, roots.pem and endpoints.json (created)")
    g.add_argument("--host", default="127.0.0.1", help="API (HTTPS) address [127.0.0.1]; must be loopback "
                   "unless --allow-non-loopback")
    g.add_argument("--port", type=int, default=0, help="API (HTTPS) port; 0 picks a free one [0]")
    g.add_argument("--mgmt-host", default="127.0.0.1", help="management API address; loopback only [127.0.0.1]")
    g.add_argument("--mgmt-port", type=int, default=0, help="management API (HTTP) port; 0 picks a free one [0]")
    g.add_argument("--http-port", type=int, default=None,
                   help="also serve the Sectigo/今通 sub-apps (when installed) over plain HTTP on this port "
                        "(0 = free port); off by default")
    g.add_argument("--allow-non-loopback", action="store_true",
                   help="allow --host to be a non-loopback address (the management API stays on loopback)")
    g.add_argument("--token", action="append", default=None, metavar="T",
                   help="accepted WoTrusToken (repeatable); also env WOTRUS_SANDBOX_TOKENS (comma-separated) "
                        "and \"tokens\" in --config [sandbox-token]")
    g.add_argument("--config", type=pathlib.Path, help="JSON file of knobs (the keys of GET /config; plus \"tokens\")")
    g.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="level of STATE/sandbox.log [INFO]")

    k = p.add_argument_group("knobs (override --config; change at runtime with POST /config)")
    k.add_argument("--delay", action="append", type=_delay, metavar="STATE=SECONDS",
                   help="seconds an order stays in a pending state, e.g. pendingDCV=5 or default=1 (repeatable) [0]")
    k.add_argument("--revoke-delay", type=float, help="seconds in pendingRevoke before revoked [0]")
    k.add_argument("--validity-minutes", type=float, help="leaf validity in minutes instead of `month` [off]")
    k.add_argument("--answer-casing", choices=config.ANSWER_CASINGS,
                   help="v106: orderId/orderId_RSA; v109: orderID/orderID_RSA (also push, isCSRSubmited) [v106]")
    k.add_argument("--status-key", choices=config.STATUS_KEYS, help="key of the status in the order query [status]")
    k.add_argument("--page-style", choices=config.PAGE_STYLES, help="`page` in answers [seeds]")
    k.add_argument("--rsa-order-id-field", choices=config.RSA_ORDER_ID_FIELDS,
                   help="Create answer field carrying a plain order's ID [orderId]")
    k.add_argument("--accept-unknown-keys", action="store_true", default=None,
                   help="accept request keys the parameter tables do not name [refused]")
    k.add_argument("--no-check-csr-names", dest="check_csr_names", action="store_false", default=None,
                   help="do not refuse CSRs whose names differ from commonName/hosts")
    k.add_argument("--no-check-file-magic", dest="check_file_magic", action="store_false", default=None,
                   help="do not refuse fileContent whose bytes do not match fileType")
    k.add_argument("--unpaid", action="store_true", default=None, help="new orders start with isPay 0 and wait")
    k.add_argument("--cross-sign", nargs="?", const=True, default=None, type=_cross_sign,
                   metavar=config.CROSS_SIGN_R2_SELF_SIGNED,
                   help="cross-signed chain, roots.pem holds A and B: [root A, cross B-by-A, intermediate under B]; "
                        "with the value %s: [root B, cross B-by-A, intermediate under B] [off]"
                        % config.CROSS_SIGN_R2_SELF_SIGNED)
    k.add_argument("--no-crl-in-leaf", dest="crl_in_leaf", action="store_false", default=None,
                   help="leave the CRL distribution point out of issued certificates")
    k.add_argument("--push-url", help="partner URL the push (8.1) is POSTed to [off]")
    k.add_argument("--push-secret", help="HMAC-SHA256 secret of the push signature [sandbox-push-secret]")
    k.add_argument("--push-header", help="header carrying the push signature [X-WoTrus-Signature]")
    k.add_argument("--push-attempts", type=int, help="attempts per push, stopping at HTTP 200 [3]")
    k.add_argument("--push-retry-delay", type=float, help="seconds between push attempts [1]")
    k.add_argument("--push-timeout", type=float, help="seconds per push attempt [5]")
    k.add_argument("--tick-interval", type=float, help="period of the state ticker, seconds [0.2]")
    k.add_argument("--dcv-mode", choices=config.DCV_MODES,
                   help="how backend: sectigo orders leave pendingDCV: delay (after the delay) or http (once the "
                        "validation file of every name was fetched and matches) [delay]")
    k.add_argument("--dcv-resolve", action="append", type=_resolve, metavar="NAME=ADDR",
                   help="connect to loopback ADDR for NAME in HTTP DCV checks (repeatable; names are never "
                        "looked up; non-loopback addresses are refused) [none]")
    k.add_argument("--dcv-http-port", type=int, metavar="N", help="port of the HTTP DCV checks [80]")
    k.add_argument("--dcv-check-interval", type=float, metavar="S", help="seconds between two HTTP DCV checks of an order [1]")
    k.add_argument("--dcv-timeout", type=float, metavar="S", help="time limit of one HTTP DCV fetch, seconds [2]")
    k.add_argument("--rate-limit", type=_rate_limit, metavar="N/S",
                   help="at most N API calls in any S seconds, past that HTTP 429 with Retry-After [off]")
    return p


def _rate_limit(text):
    try:
        n, per = text.split("/", 1)
        return {"requests": int(n), "per": float(per)}
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not N/SECONDS (e.g. 20/1)" % text) from None


def overrides_from(args):
    o = {}
    if args.delay:
        o["delays"] = dict(args.delay)
    if args.dcv_resolve:
        o["dcv_resolve"] = dict(args.dcv_resolve)
    for name in ("revoke_delay", "validity_minutes", "answer_casing", "status_key", "page_style",
                 "rsa_order_id_field", "accept_unknown_keys", "check_csr_names", "check_file_magic", "unpaid",
                 "cross_sign", "crl_in_leaf", "push_url", "push_secret", "push_header", "push_attempts",
                 "push_retry_delay", "push_timeout", "tick_interval", "dcv_mode", "dcv_http_port",
                 "dcv_check_interval", "dcv_timeout", "rate_limit"):
        v = getattr(args, name)
        if v is not None:
            o[name] = v
    return o


def _url(scheme, host, port):
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (scheme, host, port)


def _bound_port(site):
    server = site._server  # aiohttp exposes no public accessor for the bound socket
    return server.sockets[0].getsockname()[1]


def _write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(str(tmp), str(path))


def _load_sub_apps(settings, state_dir):
    apps = {}
    for prefix, modname in SUB_APPS:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue
            log.error("%s cannot be imported: %s; not mounted", modname, exc)
            continue
        apps[prefix] = mod
    return apps


async def serve(args, settings, tokens):
    state_dir = args.state_dir.resolve()
    endpoints = state_dir / "endpoints.json"
    sb = Sandbox(state_dir, settings, tokens)
    roots = sb.write_roots()
    extra_ips = ()
    extra_names = ("localhost",)
    if args.host not in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::"):
        try:
            ipaddress.ip_address(args.host)
            extra_ips = (args.host,)
        except ValueError:
            extra_names = ("localhost", args.host)
    cert, key = sb.ca.write_server_cert(state_dir, names=extra_names, ips=("127.0.0.1", "::1") + extra_ips)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))

    modules = _load_sub_apps(settings, state_dir)
    api_app = create_api_app(sb, {p: m.create_app(settings[p.strip("/")], state_dir) for p, m in modules.items()})
    mgmt_app = create_mgmt_app(sb)
    runners = []

    async def start(app, host, port, ssl_context=None):
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=1024, reuse_address=True)
        await site.start()
        runners.append(runner)
        return _bound_port(site)

    api_port = await start(api_app, args.host, args.port, ctx)
    mgmt_port = await start(mgmt_app, args.mgmt_host, args.mgmt_port)
    sb.api_url = _url("https", "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host, api_port)
    sb.mgmt_url = _url("http", args.mgmt_host, mgmt_port)
    info = {"api_url": sb.api_url, "mgmt_url": sb.mgmt_url, "pid": os.getpid(), "roots": str(roots),
            "sm2_roots": str(roots.parent / "sm2-roots.pem"), "sub_apps": sorted(modules)}
    if args.http_port is not None:
        http_app = web.Application()
        for prefix, mod in modules.items():
            http_app.add_subapp(prefix, mod.create_app(settings[prefix.strip("/")], state_dir))
        http_port = await start(http_app, args.host, args.http_port)
        sb.http_url = _url("http", args.host, http_port)
        info["http_url"] = sb.http_url

    states.reschedule_dcv(sb)  # the knobs may differ from the last run's
    ticker = asyncio.get_running_loop().create_task(states.ticker(sb))
    checker = asyncio.get_running_loop().create_task(dcv.Checker(sb).run())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    line = json.dumps(info)  # the same line in endpoints.json and on stdout
    _write_atomic(endpoints, line + "\n")
    log.info("listening: %s", line)
    print(line, flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        ticker.cancel()
        checker.cancel()
        try:
            await checker
        except asyncio.CancelledError:
            pass
        for task in list(sb.background):  # slow faults still waiting: a stopped server answers nothing
            task.cancel()
        await asyncio.gather(*sb.background, return_exceptions=True)
        await sb.pusher.close()
        for runner in reversed(runners):
            await runner.cleanup()
        sb.store.close()
        try:
            endpoints.unlink()
        except FileNotFoundError:
            pass


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not _is_loopback(args.mgmt_host):
        parser.error("--mgmt-host must be a loopback address (the management API has no authentication)")
    if not _is_loopback(args.host) and not args.allow_non_loopback:
        parser.error("--host %s is not a loopback address; add --allow-non-loopback to serve the API there"
                     % args.host)
    try:
        settings, file_tokens = config.load(args.config, overrides_from(args))
    except (config.ConfigError, OSError, ValueError) as exc:
        parser.error("configuration: %s" % exc)
    tokens = list(args.token or [])
    env = os.environ.get("WOTRUS_SANDBOX_TOKENS", "")
    tokens += [t.strip() for t in env.split(",") if t.strip()]
    tokens += [str(t) for t in file_tokens]
    if not tokens:
        tokens = ["sandbox-token"]

    args.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        (args.state_dir / "endpoints.json").unlink()
    except FileNotFoundError:
        pass
    handler = logging.FileHandler(str(args.state_dir / "sandbox.log"), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(getattr(logging, args.log_level))
    root.addHandler(handler)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    root.addHandler(err)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args, settings, tokens))
    except OSError as exc:
        print("wotrus-sandbox: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

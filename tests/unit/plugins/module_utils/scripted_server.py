# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP server that answers from a script, for the tests of the
HTTP stack: urllib3's retries happen below ``requests.Session``, so they are
tested against a real socket, not a fake session.

Each script item is ``(status, headers, body)`` or ``RESET`` (the connection
is closed without an answer, after the request was read). Every request is
recorded as ``dict(method, path, headers, body)``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESET = "reset"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.server
        with server.lock:
            server.requests.append(dict(method=self.command, path=self.path, headers=dict(self.headers), body=body))
            item = server.script.pop(0) if server.script else (500, {}, b"script exhausted")
        if item == RESET:
            self.close_connection = True
            return
        status, headers, payload = item
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode("utf-8")
        elif isinstance(payload, str):
            payload = payload.encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve


class ScriptedServer:
    def __init__(self, script=()):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.script = list(script)
        self.httpd.requests = []
        self.httpd.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    @property
    def requests(self):
        return self.httpd.requests

    def push(self, *items):
        self.httpd.script.extend(items)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def envelope(data=None, success=True, error_msg=None):
    return {"isSuccess": success, "errorMsg": error_msg, "successMsg": "", "data": data, "page": None}

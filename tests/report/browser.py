"""Headless Chromium driven over the DevTools protocol (websocket-client): open a file, evaluate
JavaScript, click, take a screenshot. Used by tests/report and benchmarks/report_bench.py.

Chromium gets a fresh profile (--user-data-dir in a temporary directory), no network of its own
(--disable-background-networking ...) and picks its own DevTools port (--remote-debugging-port=0; the
port is read from DevToolsActivePort), so runs beside each other do not clash."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


class Browser(object):
    def __init__(self, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="wotrus-report-chromium-")
        cmd = [CHROMIUM] + FLAGS + ["--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height),
                                    "about:blank"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws = None
        self.next_id = 0
        self.events = []
        try:
            port = self._port()
            pages = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10).read())
            url = [p for p in pages if p.get("type") == "page"][0]["webSocketDebuggerUrl"]
            self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except Exception:
            self.close()
            raise

    def _port(self):
        path = pathlib.Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + 60
        while time.time() < deadline:
            if path.exists():
                lines = path.read_text().split()
                if lines:
                    return int(lines[0])
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %s" % self.proc.returncode)
            time.sleep(0.1)
        raise RuntimeError("chromium gave no DevTools port in 60 s")

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps(dict(id=my_id, method=method, params=params)))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            self.events.append(msg)
        raise RuntimeError("no %s in %d s" % (method, timeout))

    def open(self, path):
        """Open a file; returns when its load event fired."""
        self.events = []
        self.call("Page.navigate", url=pathlib.Path(path).resolve().as_uri())
        self.wait_event("Page.loadEventFired")

    def js(self, expression, await_promise=False):
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in out:
            raise RuntimeError("javascript failed: %s" % out["exceptionDetails"])
        return out["result"].get("value")

    def click(self, selector):
        """A real mouse click in the middle of the element."""
        box = self.js("(function(){var r=document.querySelector(%s).getBoundingClientRect();"
                      "return [r.left+r.width/2, r.top+r.height/2];})()" % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path, full_height=None):
        if full_height:
            self.call("Emulation.setDeviceMetricsOverride", width=1400, height=int(full_height),
                      deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        pathlib.Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try:
            if self.ws is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

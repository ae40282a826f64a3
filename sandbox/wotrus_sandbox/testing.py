# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the sandbox as a subprocess from tests and demos.

    with SandboxProcess(args=["--delay", "default=0"]) as sb:
        requests.get(sb.api_url + "/v1/Order/X", headers=sb.headers(), verify=sb.roots)
        sb.mgmt_get("/counts")

The process listens on free ports, its state lives in a temporary directory
(or ``state_dir``), and it is killed when the context exits (or ``stop()``).
Only the standard library is used, so any test can import it.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEFAULT_TOKEN = "sandbox-token"


class SandboxError(RuntimeError):
    pass


class SandboxProcess:
    def __init__(self, state_dir=None, args=(), token=DEFAULT_TOKEN, config=None, http_port=False,
                 start_timeout=30.0, env=None):
        self._own_dir = state_dir is None
        self.state_dir = pathlib.Path(state_dir or tempfile.mkdtemp(prefix="wotrus-sandbox-"))
        self.args = list(args)
        self.token = token
        self.config = config
        self.http_port = http_port
        self.start_timeout = start_timeout
        self.env = env
        self.proc = None
        self.info = {}

    # -- life cycle ----------------------------------------------------------
    def command(self):
        cmd = [sys.executable, "-m", "wotrus_sandbox", "--state-dir", str(self.state_dir),
               "--port", "0", "--mgmt-port", "0", "--token", self.token]
        if self.http_port:
            cmd += ["--http-port", "0"]
        if self.config is not None:
            path = self.state_dir / "config.json"
            path.write_text(json.dumps(self.config))
            cmd += ["--config", str(path)]
        return cmd + self.args

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise SandboxError("already running")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        endpoints = self.state_dir / "endpoints.json"
        if endpoints.exists():
            endpoints.unlink()
        self._stderr = open(self.state_dir / "stderr.log", "ab")
        env = dict(os.environ)
        env.pop("WOTRUS_SANDBOX_TOKENS", None)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=self._stderr, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._stderr.close()
                raise SandboxError("wotrus-sandbox exited with %s: %s" % (
                    self.proc.returncode, (self.state_dir / "stderr.log").read_text(errors="replace")[-2000:]))
            if endpoints.exists():
                try:
                    self.info = json.loads(endpoints.read_text())
                except ValueError:
                    pass
                else:
                    if self.info.get("pid") == self.proc.pid:
                        return self
            time.sleep(0.05)
        self.stop()
        raise SandboxError("wotrus-sandbox did not write endpoints.json within %ss" % self.start_timeout)

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        try:
            self._stderr.close()
        except Exception:
            pass
        return self.proc.returncode

    def kill(self):
        """SIGKILL (a crash): state must survive it too."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # -- what tests use ------------------------------------------------------------
    @property
    def api_url(self):
        return self.info["api_url"]

    @property
    def mgmt_url(self):
        return self.info["mgmt_url"]

    @property
    def http_url(self):
        return self.info.get("http_url")

    @property
    def roots(self):
        return self.info["roots"]

    @property
    def sm2_roots(self):
        """The SM2 root (PEM file): the trust anchor of SM2 products' certificates."""
        return self.info["sm2_roots"]

    @property
    def pid(self):
        return self.info.get("pid")

    def headers(self, request_id=None):
        h = {"WoTrusToken": self.token, "Content-Type": "application/json"}
        if request_id:
            h["RequestID"] = request_id
        return h

    def _mgmt(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.mgmt_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                ctype = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise SandboxError("%s %s -> HTTP %s: %s" % (method, path, exc.code, detail)) from None
        if "json" in ctype:
            return json.loads(raw.decode("utf-8"))
        return raw.decode("utf-8")

    def mgmt_get(self, path):
        return self._mgmt("GET", path)

    def mgmt_post(self, path, body=None):
        return self._mgmt("POST", path, {} if body is None else body)

    def mgmt_delete(self, path):
        return self._mgmt("DELETE", path)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the reliability sections share: running a module the way Ansible
does (its file, an arguments file, JSON on stdout), sandboxes, CSRs and
files, and the test of a "clear" error.

A module runs as ``python -m ansible_collections.wotrus.pki.plugins.modules.NAME
ARGS.json`` with the collection importable from ``.collections`` -- the same
module code, argument spec, ``no_log`` handling and ``fail_json`` path a
playbook runs, without the cost of a play per call.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, ".collections")
MODULES = "ansible_collections.wotrus.pki.plugins.modules."
DV = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+", re.M)

sys.path.insert(0, os.path.join(ROOT, "sandbox"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sandbox"))

from wotrus_sandbox.testing import SandboxProcess  # noqa: E402  pylint: disable=wrong-import-position
import sandbox_helpers  # noqa: E402  pylint: disable=wrong-import-position


class Outcome(object):
    """One module run: exit status, the JSON result (or None), raw output, seconds."""

    def __init__(self, rc, result, stdout, stderr, seconds):
        self.rc = rc
        self.result = result
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def failed(self):
        return self.result is None or bool(self.result.get("failed")) or self.rc != 0

    @property
    def msg(self):
        if self.result is None:
            # a crash: the exception's own line (the last one of the traceback), as a person reads it first
            lines = [line for line in (self.stderr or self.stdout or "").splitlines() if line.strip()]
            return ("module crashed: " + lines[-1].strip()) if lines else "module crashed with no output"
        return str(self.result.get("msg", ""))

    @property
    def traceback(self):
        text = self.stdout + self.stderr + json.dumps((self.result or {}).get("exception", ""))
        return bool(TRACEBACK.search(self.stdout + self.stderr)) or "Traceback" in text

    def short(self, limit=300):
        text = self.msg.replace("\n", " ")
        return text if len(text) <= limit else text[:limit] + "..."


def module_env(extra=None):
    env = dict(os.environ)
    for name in ("WOTRUS_API_TOKEN", "WOTRUS_API_URL", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(name, None)
    env["PYTHONPATH"] = COLLECTIONS + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    env.update(extra or {})
    return env


def run_module(name, args, workdir, check_mode=False, env=None, timeout=300):
    """Run module ``name`` with ``args``; an :class:`Outcome`."""
    args = dict(args)
    args.setdefault("_ansible_check_mode", check_mode)
    args.setdefault("_ansible_remote_tmp", os.path.join(workdir, "remote-tmp"))
    args.setdefault("_ansible_tmpdir", tempfile.mkdtemp(dir=workdir, prefix="mod-"))
    fd, path = tempfile.mkstemp(dir=workdir, prefix="args-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, f)
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", MODULES + name, path], env=module_env(env),
                              cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = -9, exc.stdout or "", (exc.stderr or "") + "\n(harness: killed after %ss)" % timeout
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    seconds = time.monotonic() - started
    return Outcome(rc, parse_result(out), out, err, seconds)


def parse_result(stdout):
    """The module's JSON result: the last line of stdout that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def connection(sb, **extra):
    args = dict(api_url=sb.api_url, api_token=sb.token, ca_path=sb.roots)
    args.update(extra)
    return args


def csr(cn, hosts=(), kind="ec256", key=None):
    return sandbox_helpers.make_csr(cn, [cn] + [h for h in hosts if h != cn], kind, k=key)


def new_key(kind="ec256"):
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def write(path, data, mode=0o644):
    data = data.encode() if isinstance(data, str) else data
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


PDF = b"%PDF-1.4\n% wotrus.pki reliability proof\n"


class Api(object):
    """Direct sandbox calls to set up a cell (no faults are queued while they run)."""

    def __init__(self, sb):
        self.sb = sb
        self.client = sandbox_helpers.Client(sb)

    def reset(self, **config):
        self.sb.mgmt_delete("/faults")
        self.sb.mgmt_post("/reset")
        knobs = {"delays": {"default": 0}, "revoke_delay": 0}
        knobs.update(config)
        self.sb.mgmt_post("/config", knobs)

    def create(self, cn="rel.example.com", key=None):
        return self.client.create_ok(cn=cn, hosts=(), csr=csr(cn, key=key))

    def issued(self, **kw):
        oid = self.create(**kw)
        self.sb.mgmt_post("/orders/%s/state" % oid, {"status": "issued"})
        return oid

    def orders(self):
        return self.sb.mgmt_get("/orders")

    def order(self, oid):
        return self.sb.mgmt_get("/orders/%s" % oid)

    def counts(self):
        return self.sb.mgmt_get("/counts")

    def idempotence(self):
        return self.sb.mgmt_get("/idempotence")

    def fault(self, endpoint, kind, count=1, **extra):
        spec = dict(endpoint=endpoint, kind=kind, count=count)
        spec.update(extra)
        self.sb.mgmt_post("/faults", spec)


def start_sandboxes(n, work, **kw):
    boxes = []
    for i in range(n):
        sb = SandboxProcess(state_dir=os.path.join(work, "sandbox-%d" % i), **kw)
        sb.start()
        boxes.append(sb)
    return boxes


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
    return "\n".join(out)


class Section(object):
    """A section's result: markdown, passes, failures (each failure: name + detail)."""

    def __init__(self, title):
        self.title = title
        self.parts = []
        self.passed = 0
        self.failures = []
        self.seconds = 0.0

    def add(self, text):
        self.parts.append(text)

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append((name, detail))
        return ok

    def markdown(self):
        text = "## %s\n\n" % self.title + "\n\n".join(self.parts)
        if self.failures:
            text += "\n\nFailing (%d):\n\n" % len(self.failures)
            text += "\n".join("- **%s**: %s" % (n, d.replace("\n", " ")) for n, d in self.failures)
        return text + "\n"

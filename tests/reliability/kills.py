# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kill matrix: the role over the SSH test hosts (tests/hosts/hosts.sh),
``ansible-playbook`` SIGKILLed (its whole process group) at one step, then
run again. Counted after the re-run: duplicate orders, hosts whose key and
certificate do not match, hosts serving an invalid certificate.

Each cell deploys a new certificate (its own name and cert_path, the served
key and full chain of each host's nginx), so every cell has work to do.
A step is detected from the outside: the staged key and CSR on the host's
disk, the sandbox's orders, the deploy's files, the certificate nginx serves.
Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

import lib

sys.path.insert(0, os.path.join(lib.ROOT, "tests", "role"))
import conftest as role_conftest  # noqa: E402  pylint: disable=wrong-import-position

SSH_PORT = os.environ.get("ROLE_TEST_SSH_PORT", "2222")
HTTPS_PORT = int(os.environ.get("ROLE_TEST_HTTPS_PORT", "8443"))
HTTP_PORT = os.environ.get("ROLE_TEST_HTTP_PORT", "8080")
N_HOSTS = 3
KEY = "/etc/ssl/test-host/placeholder.key"
FULLCHAIN = "/etc/ssl/test-host/placeholder.crt"
STEPS = ("after key", "after CSR", "after Create", "mid-wait", "during the deploy", "after reload")
WAIT_DELAY = 8  # seconds in pendingAutoIssue for the mid-wait cell
STEP_TIMEOUT = 180


def cert_list(name):
    return [dict(name=name, common_name="{{ test_host_server_name }}", key_type="ecdsa", key_size=256,
                 cert_path="/etc/ssl/test-host/%s.crt" % name, chain_path="/etc/ssl/test-host/%s.chain.pem" % name,
                 fullchain_path=FULLCHAIN, key_path=KEY,
                 services=[dict(name="nginx", test=["nginx", "-t"], reload=["nginx", "-s", "reload"])])]


def served_der(host, verify_roots=None):
    """DER of the certificate served for the host's name; verified against ``verify_roots`` when given."""
    if verify_roots:
        ctx = ssl.create_default_context(cafile=verify_roots)
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host["address"], HTTPS_PORT), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=host["server_name"]) as t:
            return t.getpeercert(binary_form=True)


def pubkey_bytes(obj):
    from cryptography.hazmat.primitives import serialization
    return obj.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


class Cell(object):
    def __init__(self, env, step, index):
        self.env = env
        self.step = step
        self.name = "k%d" % index
        self.hosts = env.hosts
        self.known_orders = set(o["id"] for o in env.sandbox.mgmt_get("/orders"))
        self.served_before = dict((h["name"], self._served_quiet(h)) for h in self.hosts)

    def _served_quiet(self, host):
        try:
            return served_der(host)
        except (OSError, ssl.SSLError):
            return None

    def new_orders(self):
        return [o for o in self.env.sandbox.mgmt_get("/orders") if o["id"] not in self.known_orders]

    def files(self, host):
        d = self.env.host_file(host, "/etc/ssl/test-host/x").parent
        return sorted(p.name for p in d.iterdir()) if d.is_dir() else []

    def reached(self):
        """The step's condition, looked at from outside; a description of what was seen, or None."""
        for h in self.hosts:
            staged = self.env.host_file(h, KEY + ".pending")
            names = self.files(h)
            if self.step == "after key" and staged.exists():
                return "%s: staged key on disk" % h["name"]
            staged_name = os.path.basename(KEY) + ".pending"
            if self.step == "after CSR" and any(n.startswith(staged_name) and n != staged_name for n in names):
                return "%s: staged CSR on disk" % h["name"]
            if self.step == "during the deploy" and any(n.startswith(self.name + ".") for n in names):
                return "%s: deploy began (%s)" % (h["name"], ", ".join(n for n in names if n.startswith(self.name)))
        if self.step == "after Create" and self.new_orders():
            return "sandbox: %d new order(s)" % len(self.new_orders())
        if self.step == "mid-wait":
            pending = [o for o in self.new_orders() if o["status"] != "issued"]
            if pending and time.time() - min(o["created"] if isinstance(o["created"], (int, float)) else time.time()
                                             for o in pending) >= 0:
                if not hasattr(self, "_wait_seen"):
                    self._wait_seen = time.monotonic()
                elif time.monotonic() - self._wait_seen >= 2.0:
                    return "sandbox: %d order(s) pending for 2 s" % len(pending)
        if self.step == "after reload":
            for h in self.hosts:
                now = self._served_quiet(h)
                if now is not None and now != self.served_before[h["name"]]:
                    return "%s: nginx serves the new certificate" % h["name"]
        return None


def start(env, cell):
    cmd = env.command("site.yml", extra={"certificate_list": cert_list(cell.name)})
    log = open(os.path.join(str(env.work), "%s-killed.log" % cell.name), "w")
    proc = subprocess.Popen(cmd, cwd=lib.ROOT, env=env.env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, log


def run_cell(env, step, index):
    cell = Cell(env, step, index)
    if step == "mid-wait":
        env.sandbox.mgmt_post("/config", {"delays": {"default": 0, "pendingAutoIssue": WAIT_DELAY}})
    proc, log = start(env, cell)
    seen = None
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        seen = cell.reached()
        if seen:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005 if step == "during the deploy" else 0.05)
    if proc.poll() is None and not seen:
        os.killpg(proc.pid, signal.SIGKILL)
    rc_killed = proc.wait()
    log.close()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything of the group still alive (ssh masters)
    except ProcessLookupError:
        pass
    killed_at = seen or ("not reached: the run ended first (rc %s)" % rc_killed)
    torn = torn_pairs(env, cell)
    state = dict((h["name"], [n for n in cell.files(h) if n.startswith((cell.name, "placeholder.key.pending"))])
                 for h in cell.hosts)
    rerun = env.play(extra={"certificate_list": cert_list(cell.name)}, timeout=600)
    if step == "mid-wait":
        env.sandbox.mgmt_post("/config", {"delays": {"default": 0}})
    result = check(env, cell, rerun)
    result["torn"] = len(torn)
    result["problems"][:0] = ["at the kill, " + t for t in torn]
    return cell, killed_at, state, rerun, result


def torn_pairs(env, cell):
    """Hosts whose served key and full chain do not match right after the kill (before any re-run)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    torn = []
    for h in cell.hosts:
        try:
            key = serialization.load_pem_private_key(env.host_file(h, KEY).read_bytes(), None)
            leaf = x509.load_pem_x509_certificate(env.host_file(h, FULLCHAIN).read_bytes())
        except (OSError, ValueError) as exc:
            torn.append("%s: key or certificate unreadable (%s)" % (h["name"], exc))
            continue
        if pubkey_bytes(key) != pubkey_bytes(leaf):
            torn.append("%s: key and full chain do not match" % h["name"])
    return torn


def check(env, cell, rerun):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    problems = []
    if rerun.returncode != 0:
        problems.append("re-run failed (rc %d): %s" % (rerun.returncode, rerun.stdout[-800:].replace("\n", " ")))
    orders = cell.new_orders()
    duplicates = 0
    for h in cell.hosts:
        mine = [o for o in orders if o["common_name"] == h["server_name"]]
        duplicates += max(0, len(mine) - 1)
    mismatch, invalid = 0, 0
    for h in cell.hosts:
        try:
            key = serialization.load_pem_private_key(env.host_file(h, KEY).read_bytes(), None)
            leaf = x509.load_pem_x509_certificate(env.host_file(h, FULLCHAIN).read_bytes())
            cert_file = env.host_file(h, "/etc/ssl/test-host/%s.crt" % cell.name)
            cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
            if pubkey_bytes(key) != pubkey_bytes(leaf) or pubkey_bytes(key) != pubkey_bytes(cert):
                mismatch += 1
                problems.append("%s: key and certificate do not match" % h["name"])
        except (OSError, ValueError) as exc:
            mismatch += 1
            problems.append("%s: cannot compare key and certificate (%s)" % (h["name"], exc))
        try:
            der = served_der(h, verify_roots=env.sandbox.roots)
            on_disk = x509.load_pem_x509_certificate(env.host_file(h, FULLCHAIN).read_bytes())
            if der != on_disk.public_bytes(serialization.Encoding.DER):
                invalid += 1
                problems.append("%s: nginx serves another certificate than the deployed one" % h["name"])
        except (OSError, ssl.SSLError, ValueError) as exc:
            invalid += 1
            problems.append("%s: served certificate invalid (%s)" % (h["name"], exc))
    if duplicates:
        problems.append("%d duplicate order(s)" % duplicates)
    return dict(duplicates=duplicates, mismatch=mismatch, invalid=invalid, orders=len(orders), problems=problems)


def hosts_up(work, sb):
    hosts_dir = pathlib.Path(work) / "hosts"
    up = [str(role_conftest.HOSTS_SH), "up", str(N_HOSTS), "--dir", str(hosts_dir), "--ssh-port", SSH_PORT,
          "--https-port", str(HTTPS_PORT), "--http-port", HTTP_PORT]
    subprocess.run(up, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    info = json.loads((hosts_dir / "hosts.json").read_text())
    inv = pathlib.Path(work) / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    shutil.copy(hosts_dir / "inventory.ini", inv / "hosts.ini")
    with open(inv / "hosts.ini", "a") as f:
        f.write("\n[wotrus_certificate_hosts:children]\ntest_hosts\n")
    (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
        role_conftest.GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=role_conftest.PRODUCT))
    return role_conftest.Env(pathlib.Path(work), sb, hosts_dir, inv / "hosts.ini", info["hosts"])


def run(section, full, work):
    del full
    if os.geteuid() != 0:
        section.check(False, "kill matrix", "needs root (the SSH test hosts); not run")
        return
    sb = lib.SandboxProcess(state_dir=os.path.join(work, "sandbox"), config={"revoke_delay": 0})
    sb.start()
    env = None
    rows = []
    try:
        env = hosts_up(work, sb)
        for index, step in enumerate(STEPS):
            started = time.monotonic()
            try:
                cell, killed_at, state, rerun, result = run_cell(env, step, index)
            except Exception as exc:  # pylint: disable=broad-except
                section.check(False, "kill %s" % step, "harness error: %r" % exc)
                continue
            files = "; ".join("%s: %s" % (h, ", ".join(v) or "-") for h, v in sorted(state.items()))
            rows.append([step, killed_at, files, result["torn"], result["orders"], result["duplicates"],
                         result["mismatch"],
                         result["invalid"], "%.0f" % (time.monotonic() - started)])
            section.check(not result["problems"] and not killed_at.startswith("not reached"), "kill %s" % step,
                          "; ".join(result["problems"] + ([killed_at] if killed_at.startswith("not reached") else [])))
    finally:
        if env is not None:
            subprocess.run([str(role_conftest.HOSTS_SH), "down", "--dir", str(env.hosts_dir)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        sb.cleanup()
    section.add("%d hosts; each cell deploys a new certificate to every host, is SIGKILLed (the whole process "
                "group) when the step is seen, then runs again." % N_HOSTS)
    section.add(lib.md_table(["killed", "seen when killed", "cell files on the hosts at the kill",
                              "key/cert mismatch at the kill", "orders after the re-run",
                              "duplicate orders", "key/cert mismatch", "invalid served", "seconds"], rows))

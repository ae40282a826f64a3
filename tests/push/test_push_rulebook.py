"""The push path end to end, with the real ansible-rulebook: the example rulebook
(extensions/eda/rulebooks/wotrus_push.yml) receives the sandbox's signed push and runs
playbooks/on_push.yml, which deploys the issued certificate on the one SSH test host that
waits for it -- with no polling job running. Forged, replayed and stale pushes sent to the
same receiver start no playbook run.

Needs root (the SSH test hosts, tests/hosts/hosts.sh) and Java 17 (ansible-rulebook's
Drools engine: java on PATH or JAVA_HOME). Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT /
ROLE_TEST_HTTP_PORT for the host (as tests/role), PUSH_TEST_PORT (5307) for the receiver.
The figures (issuance to served) go to .tmp/push-figures.json; docs/push.md quotes them.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("wotrus_role_conftest", str(REPO / "tests" / "role" / "conftest.py"))
role = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role)

PUSH_PORT = int(os.environ.get("PUSH_TEST_PORT", "5307"))
PUSH_URL = "http://127.0.0.1:%d/wotrus/push" % PUSH_PORT
SECRET = "push-test-secret"
# A DV product whose orders wait in pendingDCV (a person validates) for ISSUE_DELAY seconds.
PRODUCT = "5C3A1E2B-7D4F-4A6B-8C9D-0E1F2A3B4C5D"
ISSUE_DELAY = 25
RULEBOOK_START_TIMEOUT = 180
DEPLOY_TIMEOUT = 240
RUN_MARK = "PLAY [Deploy the pushed order on the hosts whose order record holds it]"


def signature(raw):
    return hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


def post(raw, sig=None):
    headers = {"Content-Type": "application/json"}
    if sig is not None:
        headers["X-WoTrus-Signature"] = sig
    req = urllib.request.Request(PUSH_URL, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Rulebook(object):
    def __init__(self, work, inventory, env):
        self.log = work / "rulebook.log"
        (work / "push-vars.yml").write_text("push_port: %d\n" % PUSH_PORT)
        env = dict(env, WOTRUS_PUSH_SECRET=SECRET)
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "ansible-rulebook"), "-r", "wotrus.pki.wotrus_push",
             "-i", str(inventory), "--vars", str(work / "push-vars.yml")],
            cwd=str(REPO), env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        return self.log.read_text(errors="replace")

    def runs(self):
        return self.output().count(RUN_MARK)

    def wait_listening(self):
        deadline = time.monotonic() + RULEBOOK_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("ansible-rulebook exited with %s:\n%s" % (self.proc.returncode, self.output()[-4000:]))
            if listening(PUSH_PORT):
                return
            time.sleep(0.5)
        pytest.fail("ansible-rulebook did not listen on %d within %ds:\n%s"
                    % (PUSH_PORT, RULEBOOK_START_TIMEOUT, self.output()[-4000:]))

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.out.close()


@pytest.fixture(scope="module")
def push_env():
    if os.geteuid() != 0:
        pytest.skip("the SSH test hosts need root")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("ansible-rulebook needs Java 17 (java on PATH or JAVA_HOME)")
    if listening(PUSH_PORT):
        pytest.fail("port %d is taken: set PUSH_TEST_PORT" % PUSH_PORT)
    tmp = REPO / ".tmp"
    tmp.mkdir(exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="wotrus-push-test-", dir=str(tmp)))
    hosts_dir = work / "hosts"
    sb = role.SandboxProcess(state_dir=str(work / "sandbox"), config={
        "push_url": PUSH_URL, "push_secret": SECRET, "push_retry_delay": 2,
        "products": {PRODUCT: {"name": "DV SSL that waits for a person (push test)", "kind": "ssl",
                               "validation": "dv", "backend": "wotrus", "path": ["pendingDCV", "issued"],
                               "delays": {"pendingDCV": ISSUE_DELAY}}}})
    sb.start()
    up = [str(role.HOSTS_SH), "up", "1", "--dir", str(hosts_dir), "--ssh-port", role.SSH_PORT,
          "--https-port", str(role.HTTPS_PORT), "--http-port", role.HTTP_PORT]
    rulebook = None
    try:
        try:
            subprocess.run(up, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        except subprocess.CalledProcessError as exc:
            pytest.fail("tests/hosts/hosts.sh up failed:\n%s" % exc.stdout)
        info = json.loads((hosts_dir / "hosts.json").read_text())
        inv = work / "inventory"
        (inv / "group_vars").mkdir(parents=True)
        shutil.copy(hosts_dir / "inventory.ini", inv / "hosts.ini")
        with open(inv / "hosts.ini", "a") as f:
            f.write("\n[wotrus_certificate_hosts:children]\ntest_hosts\n")
        (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
            role.GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=PRODUCT))
        env = role.Env(work, sb, hosts_dir, inv / "hosts.ini", info["hosts"])
        # The inventory directory, not hosts.ini: ansible-rulebook copies a file alone, without the
        # group_vars beside it (docs/push.md says so too).
        rulebook = Rulebook(work, inv, env.env())
        rulebook.wait_listening()
        yield env, rulebook
    finally:
        if rulebook is not None:
            rulebook.stop()
        subprocess.run([str(role.HOSTS_SH), "down", "--dir", str(hosts_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
        sb.cleanup()
        if not os.environ.get("ROLE_TEST_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def served_serial(env, host):
    try:
        return "%X" % env.served(host).serial_number
    except (OSError, ValueError):
        return None  # the placeholder does not verify against the sandbox roots yet


def test_a_push_deploys_the_issued_order_and_nothing_else_starts_a_run(push_env):
    env, rulebook = push_env
    host = env.hosts[0]

    # The scheduled run: the order is placed and waits for a person; the host ends cleanly.
    first = env.play("site.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    rec = env.record(host)
    order_id = rec["order_id"]
    assert rec.get("deployed_order_id") != order_id and rec["status"] == "pendingDCV"
    assert served_serial(env, host) is None
    assert rulebook.runs() == 0

    # Nobody polls. The sandbox issues the order after ISSUE_DELAY and pushes; the rulebook runs on_push.yml.
    deadline = time.monotonic() + ISSUE_DELAY + DEPLOY_TIMEOUT
    serial = None
    while time.monotonic() < deadline:
        order = env.sandbox.mgmt_get("/orders/%s" % order_id)
        serial = served_serial(env, host)
        if order["serial"] and serial == order["serial"].upper():
            break
        time.sleep(0.25)
    served_at = time.time()
    order = env.sandbox.mgmt_get("/orders/%s" % order_id)
    assert order["status"] == "issued", rulebook.output()[-4000:]
    assert serial == order["serial"].upper(), rulebook.output()[-4000:]
    assert env.record(host)["deployed_order_id"] == order_id
    assert rulebook.runs() == 1
    delivered = [p for p in env.sandbox.mgmt_get("/push-log") if p["delivered"]]
    assert len(delivered) == 1 and delivered[0]["order_id"] == order_id

    issued_at = float(order["issued_at"])
    # A nightly job finds an order issued at a random time of day 12 h later on average, 24 h at worst.
    figures = {"issued_to_push_delivered_seconds": round(float(delivered[0]["time"]) - issued_at, 2),
               "issued_to_served_seconds": round(served_at - issued_at, 1),
               "nightly_job_mean_wait_seconds": 12 * 3600, "nightly_job_worst_wait_seconds": 24 * 3600}
    (REPO / ".tmp" / "push-figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\npush figures: %s" % json.dumps(figures))

    # Forged, replayed and stale pushes: answered, no playbook run.
    raw = delivered[0]["body"].encode("utf-8")
    assert delivered[0]["signature"] == signature(raw)
    forged = json.dumps({"dataAction": "order", "orderId": order_id, "isIssued": True, "isRevoked": True}).encode()
    assert post(forged, signature(raw))[0] == 401        # another body under the delivered signature
    assert post(forged, "0" * 64)[0] == 401               # a made-up signature
    assert post(forged)[0] == 401                         # none
    # The delivery replayed, within replay_window (600 s): acknowledged, not passed on again.
    assert post(raw, delivered[0]["signature"]) == (200, "duplicate delivery: already received\n")
    # Stale: older than the issued push already received for the order (a replay after replay_window is
    # stale too: unit-tested, tests/unit/extensions/...).
    older = json.dumps({"dataAction": "order", "orderId": order_id, "isIssued": False, "isRevoked": False}).encode()
    assert post(older, signature(older)) == (200, "stale push: not passed on\n")
    time.sleep(15)  # a run would start within a second or two
    out = rulebook.output()
    assert rulebook.runs() == 1, out[-4000:]
    assert out.count("wrong signature: refused (401)") == 2 and "without the X-WoTrus-Signature header" in out
    assert out.count("stale push") == 1
    assert SECRET not in out and delivered[0]["signature"] not in out


def wait_served_order(env, host, not_order, timeout):
    """Wait until the host's record deploys an order other than not_order and nginx serves its certificate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = env.record(host)
        new_order = rec.get("deployed_order_id")
        if new_order and new_order != not_order:
            order = env.sandbox.mgmt_get("/orders/%s" % new_order)
            if order["serial"] and served_serial(env, host) == order["serial"].upper():
                return new_order, order
        time.sleep(0.5)
    return None, None


def test_a_revoked_push_gets_the_host_a_new_certificate(push_env):
    """The API revokes the deployed order (a person at the CA, say): its push makes on_push.yml order a new
    certificate, which waits for a person too; that order's issued push deploys it."""
    env, rulebook = push_env
    host = env.hosts[0]
    old_order = env.record(host).get("deployed_order_id")
    assert old_order, "the first test deploys an order on the host"
    runs_before = rulebook.runs()
    old_serial = served_serial(env, host)

    env.sandbox.mgmt_post("/orders/%s/state" % old_order, {"status": "revoked"})
    new_order, order = wait_served_order(env, host, old_order, ISSUE_DELAY + 2 * DEPLOY_TIMEOUT)
    assert new_order is not None, rulebook.output()[-4000:]
    # wait_served_order saw nginx serve this order's certificate; a second handshake right after a
    # reload may still reach an old nginx worker, so the comparison is with what it saw.
    assert order["status"] == "issued" and order["serial"].upper() != old_serial
    revoked = env.sandbox.mgmt_get("/orders/%s" % old_order)
    assert revoked["status"] == "revoked"
    # The revoked push ordered anew (the order waited for a person), the new order's push deployed it.
    assert rulebook.runs() == runs_before + 2, rulebook.output()[-4000:]
    pushes = [(p["order_id"], p["event"]) for p in env.sandbox.mgmt_get("/push-log") if p["delivered"]]
    assert pushes[-2:] == [(old_order, "revoked"), (new_order, "issued")]

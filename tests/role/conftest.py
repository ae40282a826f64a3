"""Fixtures of the certificate role tests: a WoTrus sandbox, three SSH test
hosts (tests/hosts/hosts.sh) and an inventory that points the role at the
files each host's nginx serves.

Ports: the hosts listen on 127.0.0.2-4, ports ROLE_TEST_SSH_PORT (2222),
ROLE_TEST_HTTPS_PORT (8443) and ROLE_TEST_HTTP_PORT (8080), so the suite can
run beside hosts on the default ports.

Python on the hosts: the system's /usr/bin/python3 with the distribution's
python3-cryptography, as on a managed host (hosts.sh's default). ``host_python``
makes other host interpreters (venvs with other cryptography releases, cached
under .tmp/host-pythons) for tests that pass them with ``-e ansible_python_interpreter``.
"""

from __future__ import annotations

import glob
import json
import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sandbox"))

from wotrus_sandbox.testing import SandboxProcess  # noqa: E402

HOSTS_SH = REPO / "tests" / "hosts" / "hosts.sh"
N_HOSTS = 3
SSH_PORT = os.environ.get("ROLE_TEST_SSH_PORT", "2222")
HTTPS_PORT = int(os.environ.get("ROLE_TEST_HTTPS_PORT", "8443"))
HTTP_PORT = os.environ.get("ROLE_TEST_HTTP_PORT", "8080")
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
# The role's credential check (certificate_credentials, run_once, before the status task) reads this
# order id (engine.PROBE_ORDER_ID): the one API call of a play with nothing due.
CREDENTIAL_READ = "GET /v1/Order/00000000-0000-0000-0000-000000000000"
SYSTEM_PYTHON = "/usr/bin/python3"
HOST_PYTHONS_DIR = REPO / ".tmp" / "host-pythons"
# Host interpreters besides the system's: name -> (the Python the venv is made from, what pip installs).
# "python3.8" is looked for on PATH and in pyenv; without it the tests that need it are skipped.
# The supported ones also get pytest and requests, to run the X.509 unit tests with them.
UNIT_TEST_REQUIREMENTS = ["pytest", "requests"]
HOST_PYTHONS = {
    "crypto36": (SYSTEM_PYTHON, ["cryptography==36.0.2"] + UNIT_TEST_REQUIREMENTS),     # RHEL 9 ships 36.0.1
    "crypto348": (SYSTEM_PYTHON, ["cryptography==3.4.8"] + UNIT_TEST_REQUIREMENTS),     # Ubuntu 22.04's, the minimum
    "py38-crypto348": ("python3.8", ["cryptography==3.4.8"] + UNIT_TEST_REQUIREMENTS),  # the oldest Python supported
    "crypto332": (SYSTEM_PYTHON, ["cryptography==3.3.2"]),        # below the minimum: refused
    "nocrypto": (SYSTEM_PYTHON, []),                              # no cryptography at all: refused
}

GROUP_VARS = """\
certificate_api_url: {api_url}
certificate_ca_path: {roots}
certificate_product_id: {product}
certificate_poll_interval: 1
certificate_organization:
  org_name: wotrus.pki role tests
  country_code: CN
certificate_list:
  - name: site
    common_name: "{{{{ test_host_server_name }}}}"
    key_type: ecdsa
    key_size: 256
    cert_path: /etc/ssl/test-host/site.crt
    chain_path: /etc/ssl/test-host/site.chain.pem
    fullchain_path: "{{{{ test_host_placeholder_cert }}}}"
    key_path: "{{{{ test_host_placeholder_key }}}}"
    services:
      - name: nginx
        test: [nginx, -t]
        reload: [nginx, -s, reload]
"""


def own_inventory(env, name, certificates, sandbox=None):
    """A private inventory of the test hosts under env.work/NAME: the shared group_vars (API URL,
    roots, product) of ``sandbox`` (default env.sandbox) with ``certificates`` (YAML from
    ``certificate_list:`` on, or more variables before it) in place of the shared certificate list.
    Made anew on each call. Returns its directory."""
    sb = sandbox or env.sandbox
    inv = env.work / name
    shutil.rmtree(inv, ignore_errors=True)
    (inv / "group_vars").mkdir(parents=True)
    shutil.copy(env.inventory, inv / "hosts.ini")
    group_vars = GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=PRODUCT)
    (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
        group_vars[:group_vars.index("certificate_list:")] + certificates)
    return inv


def openssl_serial(cert):
    """A certificate's serial as `openssl x509 -serial` shows it (and the collection records it)."""
    from cryptography.hazmat.primitives.serialization import Encoding
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=cert.public_bytes(Encoding.PEM),
                         stdout=subprocess.PIPE, check=True)
    return out.stdout.decode("ascii").strip().split("=", 1)[1]


class Env(object):
    def __init__(self, work, sandbox, hosts_dir, inventory, hosts):
        self.work = work
        self.sandbox = sandbox
        self.hosts_dir = hosts_dir
        self.inventory = inventory
        self.hosts = hosts  # [{"name", "address", "server_name", "dir"}]

    # -- running ansible -------------------------------------------------------
    def env(self):
        env = dict(os.environ)
        env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), WOTRUS_API_TOKEN=self.sandbox.token,
                   ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PATH=str(REPO / ".venv" / "bin") + ":" + env["PATH"])
        return env

    def command(self, playbook, extra=None, limit=None):
        cmd = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(self.inventory), str(REPO / "playbooks" / playbook)]
        for k, v in (extra or {}).items():
            cmd += ["-e", json.dumps({k: v})]
        if limit:
            cmd += ["--limit", limit]
        return cmd

    def play_counting(self, playbook="site.yml", extra=None, limit=None, timeout=300):
        """Like play, and also {host: [(task action, "host" or "controller"), ...]} of the tasks that ran
        (not skipped) for each host, from the test callback tests/role/callback_plugins/host_tasks.py."""
        log = self.work / "host-tasks.jsonl"
        if log.exists():
            log.unlink()
        env = dict(ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tests" / "role" / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="host_tasks", WOTRUS_HOST_TASKS_LOG=str(log))
        proc = self.play(playbook, extra, limit, timeout, extra_env=env)
        tasks = {}
        for line in log.read_text().splitlines() if log.exists() else []:
            one = json.loads(line)
            tasks.setdefault(one["host"], []).append((one["action"], one["where"]))
        return proc, tasks

    def play(self, playbook="site.yml", extra=None, limit=None, timeout=300, extra_env=None):
        env = self.env()
        env.update(extra_env or {})
        proc = subprocess.run(self.command(playbook, extra, limit), cwd=str(REPO), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        log = self.work / "plays.log"
        with open(log, "a") as f:
            f.write("\n\n===== %s %s %s (rc %d)\n%s" % (playbook, extra or "", limit or "", proc.returncode, proc.stdout))
        return proc

    @staticmethod
    def recap(output):
        """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
        out = {}
        for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
            out[m.group(1)] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2)))
        return out

    # -- looking at the hosts ----------------------------------------------------
    def served(self, host, server_name=None):
        """The certificate the host's nginx serves for its name (SNI), verified against the sandbox roots."""
        ctx = ssl.create_default_context(cafile=self.sandbox.roots)
        with socket.create_connection((host["address"], HTTPS_PORT), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=server_name or host["server_name"]) as t:
                der = t.getpeercert(binary_form=True)
        from cryptography import x509
        return x509.load_der_x509_certificate(der)

    def host_file(self, host, path):
        """A file inside a host (its /etc/ssl and /etc/nginx are directories of the state)."""
        for inner, outer in (("/etc/ssl/", "etc-ssl/"), ("/etc/nginx/", "etc-nginx/")):
            if path.startswith(inner):
                return pathlib.Path(host["dir"]) / outer / path[len(inner):]
        raise ValueError(path)

    def record(self, host):
        return json.loads(self.host_file(host, "/etc/ssl/test-host/site.crt.wotrus.json").read_text())

    def counts(self):
        return self.sandbox.mgmt_get("/counts")

    def api_mark(self):
        """A mark in the sandbox's request log; api_requests(mark) lists the API requests logged after it."""
        return (self.sandbox.state_dir / "sandbox.log").stat().st_size

    def api_requests(self, mark):
        """["METHOD /path?query", ...] of the API requests the sandbox answered after ``mark``, in order.
        Left out: the requests of a client that had gone (a slow fault of test_role.py's killed run, which the
        sandbox executes and logs up to its delay later)."""
        with open(self.sandbox.state_dir / "sandbox.log", "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        gone = set(re.findall(r"slow fault: RequestID=(\S+) executed after .*the client had gone", text))
        logged = re.findall(r" (GET|POST|PUT|DELETE|PATCH) (\S+) RequestID=(\S+) -> ", text)
        return ["%s %s" % (method, path) for method, path, request_id in logged if request_id not in gone]

    def assert_only_the_credential_read(self, before, mark, plays=1):
        """Plays that order nothing (nothing due, or a host failing before any order): exactly one API
        call per play, its credential check (a read of the probe order); no order call (Create, Query,
        RetrievePem ...)."""
        after = self.counts()
        calls = dict((k, v - before.get(k, 0)) for k, v in after.items() if v != before.get(k, 0))
        assert calls == {"GET /v1/Order/{id}": plays, "total": plays}, calls
        assert self.api_requests(mark) == [CREDENTIAL_READ] * plays, self.api_requests(mark)


@pytest.fixture(scope="session")
def role_env():
    if os.geteuid() != 0:
        pytest.skip("the SSH test hosts need root")
    work = pathlib.Path(tempfile.mkdtemp(prefix="wotrus-role-test-", dir=str(REPO / ".tmp")
                                         if (REPO / ".tmp").is_dir() else None))
    hosts_dir = work / "hosts"
    sb = SandboxProcess(state_dir=str(work / "sandbox"), config={"revoke_delay": 0})
    sb.start()
    up = [str(HOSTS_SH), "up", str(N_HOSTS), "--dir", str(hosts_dir), "--ssh-port", SSH_PORT,
          "--https-port", str(HTTPS_PORT), "--http-port", HTTP_PORT]
    try:
        subprocess.run(up, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        sb.cleanup()
        pytest.fail("tests/hosts/hosts.sh up failed:\n%s" % exc.stdout)
    try:
        info = json.loads((hosts_dir / "hosts.json").read_text())
        inv = work / "inventory"
        (inv / "group_vars").mkdir(parents=True)
        shutil.copy(hosts_dir / "inventory.ini", inv / "hosts.ini")
        with open(inv / "hosts.ini", "a") as f:
            f.write("\n[wotrus_certificate_hosts:children]\ntest_hosts\n")
        (inv / "group_vars" / "wotrus_certificate_hosts.yml").write_text(
            GROUP_VARS.format(api_url=sb.api_url, roots=sb.roots, product=PRODUCT))
        yield Env(work, sb, hosts_dir, inv / "hosts.ini", info["hosts"])
    finally:
        subprocess.run([str(HOSTS_SH), "down", "--dir", str(hosts_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
        sb.cleanup()
        if not os.environ.get("ROLE_TEST_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def find_python(name):
    """A Python that runs: ``name`` itself if it is a path, else from PATH or pyenv; None when none runs."""
    if os.path.isabs(name):
        candidates = [name]
    else:
        pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        versions = glob.glob(os.path.join(pyenv, "versions", "%s.*" % name[len("python"):], "bin", name))
        candidates = [shutil.which(name)] + sorted(versions, reverse=True)
    for cand in candidates:
        if cand and subprocess.run([cand, "-c", "import venv"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL).returncode == 0:
            return cand
    return None


def make_host_python(name):
    """The interpreter of venv ``name`` of HOST_PYTHONS, made once and kept under .tmp/host-pythons;
    skips the test when its base Python is not on this machine."""
    base_name, requirements = HOST_PYTHONS[name]
    base = find_python(base_name)
    if base is None:
        pytest.skip("no %s on this machine for the host interpreter %s" % (base_name, name))
    venv = HOST_PYTHONS_DIR / name
    python = venv / "bin" / "python"
    want = json.dumps({"base": base, "requirements": requirements})
    stamp = venv / ".made-by-wotrus-tests"
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return str(python)
    shutil.rmtree(str(venv), ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([base, "-m", "venv", str(venv)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    if proc.returncode != 0:  # Debian: python3-venv, which tests/hosts/hosts.sh up installs
        pytest.fail("%s -m venv %s failed:\n%s" % (base, venv, proc.stdout[-3000:]))
    if requirements:
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
                              + requirements,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.fail("pip install %s into %s failed:\n%s" % (" ".join(requirements), venv, proc.stdout[-3000:]))
    stamp.write_text(want)
    return str(python)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs run the way AWX runs them: ansible-runner (its Python API) in a fresh
private data dir per job, the project's playbooks, the collection installed
from the built tarball (as an execution environment or a project sync would
have it), and the credentials' injectors rendered as AWX renders them
(awx_injectors.py). SSH test hosts from tests/hosts/hosts.sh.

Ports (env, defaults distinct from the role tests'): AWX_TEST_SSH_PORT (2252),
AWX_TEST_HTTPS_PORT (8453), AWX_TEST_HTTP_PORT (8090).
Sizes: AWX_SLICES (4) jobs at once, each with AWX_HOSTS_PER_SLICE (3) hosts.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sandbox"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import awx_injectors  # noqa: E402
from wotrus_sandbox.testing import SandboxProcess  # noqa: E402

HOSTS_SH = REPO / "tests" / "hosts" / "hosts.sh"
SSH_PORT = os.environ.get("AWX_TEST_SSH_PORT", "2252")
HTTPS_PORT = os.environ.get("AWX_TEST_HTTPS_PORT", "8453")
HTTP_PORT = os.environ.get("AWX_TEST_HTTP_PORT", "8090")
SLICES = int(os.environ.get("AWX_SLICES", "4"))
HOSTS_PER_SLICE = int(os.environ.get("AWX_HOSTS_PER_SLICE", "3"))
N_HOSTS = max(3, SLICES * HOSTS_PER_SLICE)
PRODUCT = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
TYPES_DIR = REPO / "extensions" / "awx" / "credential_types"
VENV_BIN = REPO / ".venv" / "bin"


def credential_type(kind):
    return awx_injectors.load_type(TYPES_DIR / (kind + ".yml"))


class Job:
    """One finished ansible-runner job: ``runner`` (status, rc, events, stats), its ``stdout``, its
    private data dir and the injected credential values."""

    def __init__(self, runner, pdd, injected, seconds):
        self.runner = runner
        self.pdd = pdd
        self.injected = injected
        self.seconds = seconds
        self.events = list(runner.events)
        with open(runner.stdout.name, encoding="utf-8") as f:
            self.stdout = f.read()

    @property
    def status(self):
        return self.runner.status

    @property
    def stats(self):
        return self.runner.stats or {}

    def failed_hosts(self):
        stats = self.stats
        return sorted(set(stats.get("failures", {})) | set(stats.get("dark", {})))

    def changed_hosts(self):
        return sorted(h for h, n in (self.stats.get("changed") or {}).items() if n)

    @property
    def artifact_dir(self):
        return pathlib.Path(self.runner.config.artifact_dir)


class AwxWorld:
    """The SSH test hosts, the collection installed from its tarball, and a way to run jobs."""

    def __init__(self, work, hosts, collections_dir):
        self.work = work
        self.hosts = hosts                   # [{"name", "address", "server_name", "dir", ...}]
        self.collections_dir = collections_dir
        self.hosts_info = json.loads((work / "hosts" / "hosts.json").read_text())
        self._n = 0

    def inventory(self, hosts, group_vars):
        """An inventory like the one AWX writes for a job (hosts with their variables, one group)."""
        info = self.hosts_info
        common = dict(ansible_user="root", ansible_port=int(SSH_PORT),
                      ansible_ssh_private_key_file=info["ssh_private_key"],
                      ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                              "-o LogLevel=ERROR",
                      ansible_python_interpreter=info["python"])
        hostvars = {}
        for h in hosts:
            hv = dict(common, ansible_host=h["address"], test_host_server_name=h["server_name"])
            hv.update(h.get("vars", {}))
            hostvars[h["name"]] = hv
        return {"all": {"children": {"wotrus_certificate_hosts": {"hosts": hostvars, "vars": group_vars}}}}

    def run(self, hosts, group_vars, credentials, playbook="playbooks/site.yml", verbosity=0, extra_playbooks=None,
            limit=None, keep=False):
        """Run one job, as AWX does: a fresh private data dir with the project (the repository's playbooks
        and ansible.cfg), the inventory, the credentials' injectors rendered into env / extra vars / files,
        ansible-runner with ``suppress_env_files``. ``credentials`` is ``[(kind, inputs)]``."""
        self._n += 1
        pdd = pathlib.Path(tempfile.mkdtemp(prefix="job%d-" % self._n, dir=str(self.work)))
        project = pdd / "project"
        shutil.copytree(REPO / "playbooks", project / "playbooks")
        shutil.copy(REPO / "ansible.cfg", project / "ansible.cfg")
        for name, text in (extra_playbooks or {}).items():
            (project / "playbooks" / name).write_text(text)
        (pdd / "inventory").mkdir()
        (pdd / "inventory" / "hosts.json").write_text(json.dumps(self.inventory(hosts, group_vars)))
        injected = awx_injectors.Injected()
        for kind, inputs in credentials:
            injected.merge(awx_injectors.inject(credential_type(kind), inputs, str(pdd)))
        envvars = dict(injected.env)
        # What AWX sets for every job: its own collections path first, the project's ansible.cfg.
        envvars.update(ANSIBLE_COLLECTIONS_PATH=str(self.collections_dir), ANSIBLE_CONFIG=str(project / "ansible.cfg"),
                       PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""),
                       ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
        import ansible_runner
        started = time.monotonic()
        runner = ansible_runner.run(
            private_data_dir=str(pdd), ident="job", playbook=playbook, inventory=str(pdd / "inventory" / "hosts.json"),
            envvars=envvars, cmdline=" ".join(injected.cmdline) or None, suppress_env_files=True,
            verbosity=verbosity or None, limit=limit, quiet=True, timeout=900,
            settings={"suppress_ansible_output": True})
        return Job(runner, pdd, injected, time.monotonic() - started)


def _install_collection(work):
    """The collection as AWX gets it: built, then installed (an EE build or a project sync does this).
    Not with the checkout's ansible.cfg, whose collections path is the checkout itself."""
    build = work / "build"
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(build),
                    str(REPO)], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tarball = next(build.glob("wotrus-pki-*.tar.gz"))
    collections_dir = work / "requirements_collections"
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
                    str(collections_dir), str(tarball)], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   cwd=str(work), env=dict((k, v) for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"))
    return collections_dir


@pytest.fixture(scope="session")
def awx_world():
    if os.geteuid() != 0:
        pytest.skip("the SSH test hosts need root")
    pytest.importorskip("ansible_runner")
    work = pathlib.Path(tempfile.mkdtemp(prefix="wotrus-awx-test-", dir=str(REPO / ".tmp")
                                         if (REPO / ".tmp").is_dir() else None))
    try:
        collections_dir = _install_collection(work)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail("building or installing the collection failed:\n%s" % exc.stdout)
    hosts_dir = work / "hosts"
    up = [str(HOSTS_SH), "up", str(N_HOSTS), "--dir", str(hosts_dir), "--ssh-port", SSH_PORT,
          "--https-port", HTTPS_PORT, "--http-port", HTTP_PORT]
    try:
        subprocess.run(up, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        subprocess.run([str(HOSTS_SH), "down", "--dir", str(hosts_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
        pytest.fail("tests/hosts/hosts.sh up failed:\n%s" % exc.stdout)
    try:
        info = json.loads((hosts_dir / "hosts.json").read_text())
        yield AwxWorld(work, info["hosts"], collections_dir)
    finally:
        subprocess.run([str(HOSTS_SH), "down", "--dir", str(hosts_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
        if not os.environ.get("AWX_TEST_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def sandbox_factory(awx_world):
    started = []

    def make(**kwargs):
        sb = SandboxProcess(state_dir=str(pathlib.Path(tempfile.mkdtemp(prefix="sandbox-", dir=str(awx_world.work)))),
                            **kwargs)
        sb.start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.cleanup()

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment: ansible-builder finds the collection's Python
requirements on the installed collection (meta/execution-environment.yml),
and `ansible-builder create` on extensions/awx/ee/execution-environment.yml
makes a build context that holds them and the collection's tarball. No
container is built here (no registry can be reached)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tarfile

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
EE_DIR = REPO / "extensions" / "awx" / "ee"
OUR_REQUIREMENTS = ["requests>=2.31", "cryptography>=42"]


def _env():
    # Not the checkout's ansible.cfg (its collections path is the checkout itself).
    return dict((k, v) for k, v in os.environ.items() if k != "ANSIBLE_CONFIG")


def _run(cmd, cwd):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(str(c) for c in cmd), proc.stdout[-3000:])
    return proc.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    _run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", out, REPO], out)
    return next(out.glob("wotrus-pki-*.tar.gz"))


def test_introspect_lists_our_requirements(tarball, tmp_path):
    collections = tmp_path / "collections"
    _run([BIN / "ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", collections, tarball], tmp_path)
    out = _run([BIN / "ansible-builder", "introspect", "--sanitize", collections], tmp_path)
    data = yaml.safe_load(out[out.index("---"):])
    python = [line.split("#")[0].strip() for line in data["python"]]
    assert python == OUR_REQUIREMENTS, out
    assert all("wotrus.pki" in line for line in data["python"])


def test_create_makes_a_build_context_with_our_requirements(tarball, tmp_path):
    """The EE definition is used as documented: the tarball in collections/ beside it, then create."""
    # A copy of the parts of the repository the EE file refers to (../../../meta), plus the tarball.
    root = tmp_path / "repo"
    ee = root / "extensions" / "awx" / "ee"
    shutil.copytree(EE_DIR, ee, ignore=shutil.ignore_patterns("collections"))
    shutil.copytree(REPO / "meta", root / "meta")
    (ee / "collections").mkdir()
    shutil.copy(tarball, ee / "collections")
    context = tmp_path / "context"
    _run([BIN / "ansible-builder", "create", "-f", ee / "execution-environment.yml", "-c", context,
          "--output-filename", "Containerfile"], tmp_path)
    build = context / "_build"
    requirements = [line.strip() for line in (build / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert requirements == OUR_REQUIREMENTS
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    names = [c["name"] for c in galaxy["collections"]]
    meta = yaml.safe_load((REPO / "galaxy.yml").read_text())
    # The EE installs the tarball by its file name, which carries galaxy.yml's version, and the collections
    # the collection declares (none: the role makes keys and CSRs with cryptography).
    assert any(n.endswith("wotrus-pki-%s.tar.gz" % meta["version"]) for n in names)
    assert sorted(n for n in names if not n.endswith(".tar.gz")) == sorted(meta["dependencies"] or {})
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile and "requirements.txt" in containerfile
    with tarfile.open(tarball) as tar:
        assert "meta/execution-environment.yml" in tar.getnames()


def test_awx_setup_playbook_parses_with_awx_awx():
    """playbooks/awx_setup.yml (configuration as code) parses, its awx.awx modules resolve, and the
    credential types it sends are the files in extensions/awx/credential_types (read, not copied)."""
    out = _run([BIN / "ansible-playbook", "--syntax-check", REPO / "playbooks" / "awx_setup.yml"], REPO)
    assert "playbook: " in out
    text = (REPO / "playbooks" / "awx_setup.yml").read_text()
    assert "extensions/awx/credential_types" in text
    for kind in ("wotrus", "sectigo", "jintong"):
        assert (REPO / "extensions" / "awx" / "credential_types" / (kind + ".yml")).is_file()

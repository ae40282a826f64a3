#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""galaxy-importer on the built tarball (make importer-check).

Builds the collection as `ansible-galaxy collection build` does and runs what
Galaxy runs on an upload (python -m galaxy_importer.main): MANIFEST and
galaxy.yml checks, ansible-doc of every plugin, the changelog, README
rendering and ansible-lint (offline). Offline by configuration: no
ansible-test container, no network. Fails on an importer error or on any
ERROR / WARNING line in its log.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = """[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
RUN_FLAKE8 = False
ANSIBLE_LOCAL_TMP = {tmp}/ansible-tmp
TMP_ROOT_DIR = {tmp}
"""
BAD = re.compile(r"^(ERROR|WARNING)\b.*$", re.M)


def main():
    with tempfile.TemporaryDirectory(prefix="wotrus-importer-") as out:
        cfg = os.path.join(out, "galaxy-importer.cfg")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(tmp=out))
        subprocess.run([sys.executable, "-m", "ansible", "galaxy", "collection", "build", "--force",
                        "--output-path", out, str(ROOT)], check=True, stdout=subprocess.DEVNULL)
        tarball = next(pathlib.Path(out).glob("*.tar.gz"))
        bindir = os.path.dirname(sys.executable)
        env = dict(os.environ, GALAXY_IMPORTER_CONFIG=cfg, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        env.pop("ANSIBLE_CONFIG", None)
        proc = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=out, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log = proc.stdout
        result_file = os.path.join(out, "importer_result.json")
        result = {}
        if os.path.exists(result_file):
            with open(result_file) as f:
                result = json.load(f)
    if os.environ.get("IMPORTER_CHECK_SHOW"):
        print(log)
    problems = [m.group(0) for m in BAD.finditer(log)]
    if proc.returncode != 0 or not result:
        problems.append("galaxy-importer exited %d without a result" % proc.returncode)
    if problems:
        print(log)
        for p in problems:
            print("importer-check: " + p)
        return 1
    contents = result.get("contents", [])
    print("importer-check: %s imported: %d content items (%s), requires_ansible %s"
          % (tarball.name, len(contents), ", ".join(sorted(set(c["content_type"] for c in contents))),
             result.get("requires_ansible")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The first release reads right (make release-check).

Runs ``antsibull-changelog release --version VERSION`` (galaxy.yml's version)
in a throw-away copy of the collection and checks what a user of that release
would read in CHANGELOG.rst:

- a release summary;
- every module and the role listed as new (their ``version_added``);
- no Bugfixes section: nothing was released before, so nothing was fixed;
- no development-only entry (the sandbox, the test suites, make targets: none
  of them ship in the collection) outside the trivial section.

Later fragments (minor_changes, trivial, ...) are accepted as they come.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
# Words that only make sense in this repository, not in the built collection.
DEV_ONLY = re.compile(r"(wotrus-sandbox|\bsandbox/|\btests/|\bmake (test|demo|lint|sanity|unit)\b|"
                      r"package-check|\bMakefile\b|build_ignore)", re.IGNORECASE)


def fail(problems):
    for p in problems:
        print("release-check: " + p, file=sys.stderr)
    sys.exit(1)


def fragments_problems():
    problems = []
    summaries = []
    frag_dir = os.path.join(ROOT, "changelogs", "fragments")
    for name in sorted(os.listdir(frag_dir)):
        if not name.endswith((".yml", ".yaml")):
            continue
        with open(os.path.join(frag_dir, name), encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        for section, entries in data.items():
            if section == "release_summary":
                summaries.append(name)
                continue
            if section == "bugfixes":
                problems.append("%s: a bugfixes entry in a collection never released (use minor_changes)" % name)
            if section == "trivial":
                continue
            for entry in entries if isinstance(entries, list) else [entries]:
                m = DEV_ONLY.search(str(entry))
                if m:
                    problems.append("%s: %s entry speaks of %r, which does not ship (make it trivial)"
                                    % (name, section, m.group(0)))
    if len(summaries) != 1:
        problems.append("exactly one fragment must hold the release_summary, found: %s" % (summaries or "none"))
    return problems


def copy_collection(dest):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in files:
        if not rel or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(dest, rel))


def main():
    problems = fragments_problems()
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as f:
        version = yaml.safe_load(f)["version"]
    modules = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if n.endswith(".py") and not n.startswith("_"))
    roles = sorted(n for n in os.listdir(os.path.join(ROOT, "roles"))
                   if os.path.isfile(os.path.join(ROOT, "roles", n, "meta", "argument_specs.yml")))
    work = tempfile.mkdtemp(prefix="wotrus-release-")
    try:
        coll = os.path.join(work, "ansible_collections", "wotrus", "pki")
        copy_collection(coll)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=work,
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        subprocess.run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", str(version),
                        "--date", "2000-01-01"], cwd=coll, env=env, check=True)
        with open(os.path.join(coll, "CHANGELOG.rst"), encoding="utf-8") as f:
            text = f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    section = text.split("v%s" % version, 1)[-1]
    if "Release Summary" not in section:
        problems.append("CHANGELOG.rst for %s has no Release Summary" % version)
    if "Bugfixes" in section:
        problems.append("CHANGELOG.rst for %s has a Bugfixes section" % version)
    new_modules = section.split("New Modules", 1)[1] if "New Modules" in section else ""
    for m in modules:
        if not re.search(r"^- wotrus\.pki\.%s\b" % re.escape(m), new_modules, re.M):
            problems.append("module %s is not listed under New Modules (version_added: %s?)" % (m, version))
    new_roles = section.split("New Roles", 1)[1] if "New Roles" in section else ""
    for r in roles:
        if not re.search(r"^- wotrus\.pki\.%s\b" % re.escape(r), new_roles, re.M):
            problems.append("role %s is not listed under New Roles (version_added: %s in its argument spec?)"
                            % (r, version))
    if problems:
        print(section)
        fail(problems)
    if os.environ.get("RELEASE_CHECK_SHOW"):
        print(section)
    print("release-check: %s reads right: summary, %d new modules, %d new role(s), no bugfixes"
          % (version, len(modules), len(roles)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build the collection and check what it would ship.

Fails when the tarball holds anything that is not the collection (test and
demo state, the sandbox, CI files) or any private key material: `.tmp/` of a
used checkout holds SSH and CA keys, and `build_ignore` in galaxy.yml is what
keeps them out.

Shipped Markdown speaks only of what ships: a relative link must lead to a
file in the tarball, a `path.md` in backquotes must be one, and no page names
a path of the machine it was written on (/work/, /tmp/, ../shared).
"""
from __future__ import annotations

import pathlib
import posixpath
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
ALLOWED_TOP = {"MANIFEST.json", "FILES.json", "README.md", "meta", "plugins", "roles", "playbooks",
               "docs", "changelogs", "tests", "extensions", "LICENSE", "COPYING"}
ALLOWED_TESTS = ("tests/unit", "tests/integration", "tests/sanity")
SECRET_MARKERS = (b"PRIVATE KEY-----",)
# What must ship: the push receiver is loaded by ansible-rulebook from the installed collection, and
# it loads the signature rule from plugins/ beside it (docs/push.md).
REQUIRED = ("extensions/eda/plugins/event_source/wotrus_push.py", "extensions/eda/rulebooks/wotrus_push.yml",
            "plugins/module_utils/_wotrus/protocol.py", "playbooks/on_push.yml",
            # ansible-builder introspects the installed collection (docs/awx.md).
            "meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/bindep.txt",
            "extensions/awx/credential_types/wotrus.yml", "extensions/awx/credential_types/sectigo.yml",
            "extensions/awx/credential_types/jintong.yml", "extensions/awx/ee/execution-environment.yml")
LINK = re.compile(r"\]\(([^)\s]+)\)")
QUOTED_MD = re.compile(r"`([\w./-]+\.md)`")
MACHINE_PATH = re.compile(r"(/work/|/tmp/wotrus|\.\./shared\b|\bshared/(seeds|api)/)")


def markdown_problems(name, text, names):
    """Links and paths in one shipped Markdown file that lead out of the collection."""
    problems = []
    here = posixpath.dirname(name)
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        path = posixpath.normpath(posixpath.join(here, target.split("#", 1)[0]))
        if path not in names and not any(n.startswith(path + "/") for n in names):
            problems.append("%s links to %s, which the collection does not hold" % (name, target))
    for quoted in QUOTED_MD.findall(text):
        if quoted not in names and posixpath.normpath(posixpath.join(here, quoted)) not in names:
            problems.append("%s names `%s`, which the collection does not hold" % (name, quoted))
    for m in MACHINE_PATH.finditer(text):
        problems.append("%s names a path of the machine it was written on: %s" % (name, m.group(0)))
    return problems


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "ansible", "galaxy", "collection", "build", "--force",
                        "--output-path", out, str(ROOT)], check=True, stdout=subprocess.DEVNULL)
        tarball = next(pathlib.Path(out).glob("*.tar.gz"))
        problems = []
        with tarfile.open(tarball) as tar:
            members = tar.getmembers()
            for m in members:
                top = m.name.split("/", 1)[0]
                if top not in ALLOWED_TOP:
                    problems.append("not part of the collection: %s" % m.name)
                elif top == "tests" and "/" in m.name and not m.name.startswith(ALLOWED_TESTS):
                    problems.append("test material that is not unit/integration: %s" % m.name)
                if m.isfile():
                    data = tar.extractfile(m).read()
                    if any(marker in data for marker in SECRET_MARKERS):
                        problems.append("private key material in %s" % m.name)
            names = set(m.name for m in members)
            for m in members:
                if m.isfile() and m.name.endswith(".md"):
                    text = tar.extractfile(m).read().decode("utf-8", "replace")
                    problems.extend(markdown_problems(m.name, text, names))
            problems.extend("missing from the collection: %s" % name for name in REQUIRED if name not in names)
    for p in problems:
        print("package-check: " + p)
    print("package-check: %s, %d members, %s" % (tarball.name, len(members), "FAILED" if problems else "clean"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

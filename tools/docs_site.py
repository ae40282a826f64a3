#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's docs site, built offline and without warnings (make docs-site).

antsibull-docs sphinx-init writes the site template for the collection as
installed from this checkout (.collections); antsibull-docs collection writes
the RST of every plugin and role; sphinx-build -W builds the HTML. The
template's intersphinx mapping is emptied: a build must not fetch inventories
from the internet (CI has none), and a reference that would need one is a
warning, so an error here.

    python tools/docs_site.py [--dest DIR]     # default .tmp/docs-site; HTML in DIR/build/html
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
# Labels of other docs sites that the generated pages refer to. Offline there is no
# inventory to resolve them, so each gets a local page that links to the online one;
# a new external reference fails the build (-W) until it is added here.
EXTERNAL = {
    "common_return_values": ("Return values common to all modules",
                             "https://docs.ansible.com/ansible/latest/reference_appendices/common_return_values.html"),
    "action_plugins": ("Action plugins",
                       "https://docs.ansible.com/ansible/latest/plugins/action.html"),
    "ansible_configuration_settings": ("Ansible configuration settings",
                                       "https://docs.ansible.com/ansible/latest/reference_appendices/config.html"),
    "ansible_collections.ansible.builtin.set_stats_module": (
        "ansible.builtin.set_stats",
        "https://docs.ansible.com/ansible/latest/collections/ansible/builtin/set_stats_module.html"),
    "ansible_collections.community.crypto.x509_certificate_info_module": (
        "community.crypto.x509_certificate_info",
        "https://docs.ansible.com/ansible/latest/collections/community/crypto/x509_certificate_info_module.html"),
}


def external_page():
    out = [":orphan:", "", "Elsewhere", "=========", "",
           "Pages of other documentation sites these pages refer to.", ""]
    for label, (title, url) in sorted(EXTERNAL.items()):
        out += [".. _%s:" % label, "", title, "-" * len(title), "", "See %s." % url, ""]
    return "\n".join(out)


def main(argv):
    dest = pathlib.Path(argv[argv.index("--dest") + 1]) if "--dest" in argv else ROOT / ".tmp" / "docs-site"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)

    def run(*cmd):
        subprocess.run([str(c) for c in cmd], cwd=str(dest), env=env, check=True)

    run(BIN / "antsibull-docs", "sphinx-init", "--use-current", "--dest-dir", dest, "--fail-on-error",
        "--no-add-antsibull-docs-version", "--project", "wotrus.pki", "--title", "wotrus.pki", "wotrus.pki")
    conf = dest / "conf.py"
    conf.write_text(conf.read_text() + "\n# Offline: no inventory is fetched (tools/docs_site.py).\n"
                    "intersphinx_mapping = {}\n")
    rst = dest / "rst"
    rst.mkdir(exist_ok=True)
    os.chmod(rst, 0o755)
    run(BIN / "antsibull-docs", "--config-file", dest / "antsibull-docs.cfg", "collection", "--cleanup", "everything",
        "--fail-on-error", "--use-current", "--dest-dir", rst, "wotrus.pki")
    (rst / "elsewhere.rst").write_text(external_page())
    run(BIN / "sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "-c", dest, rst, dest / "build" / "html")
    pages = sorted(p.relative_to(dest / "build" / "html") for p in (dest / "build" / "html").rglob("*.html"))
    wanted = ["collections/wotrus/pki/%s_module.html" % m[:-3] for m in os.listdir(ROOT / "plugins" / "modules")
              if m.endswith(".py")] + ["collections/wotrus/pki/certificate_role.html"]
    missing = [w for w in wanted if pathlib.Path(w) not in pages]
    if missing:
        print("docs-site: pages missing: %s" % ", ".join(missing))
        return 1
    print("docs-site: %d pages, no warnings, in %s" % (len(pages), dest / "build" / "html"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own rules, imported under the collection's own names.

The sandbox keeps no copy of a protocol fact or a DCV rule: it imports
``plugins/module_utils/_wotrus/protocol.py`` (paths, headers, statuses,
months, hosts joining, push signing...), ``plugins/module_utils/_sectigo/dcv.py``
(CSR hashes, validation file path and content, CNAME target, which methods a
name allows) and ``plugins/module_utils/_jintong/signing.py`` (the MD5 form
signature of 今通) and ``plugins/module_utils/_sm2.py`` (SM2 through the OpenSSL CLI) from the checkout it runs from, exactly as the modules and the
unit tests do: ``ansible_collections.wotrus.pki.plugins.module_utils...``.
None of them imports anything from Ansible.

How that name is found (sandbox/README.md, "Where the shared rules come from"):
the checkout's ``.collections/ansible_collections/wotrus/pki`` is a symbolic
link to the checkout itself (``make venv`` makes it, so does this module when
it is missing), and ``.collections`` goes first on ``sys.path``. A checkout
that already sits at ``.../ansible_collections/wotrus/pki`` (ansible-test's
layout) is used as it is. The sandbox refuses to run against another copy of
the collection than the one it sits in.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import sys

# sandbox/wotrus_sandbox/collection.py -> the checkout (the collection's root).
ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "ansible_collections.wotrus.pki"
MODULE_UTILS = PACKAGE + ".plugins.module_utils"


class CollectionNotFound(ImportError):
    pass


def _collections_dir():
    parts = ROOT.parts
    if len(parts) >= 4 and parts[-3:-1] == ("ansible_collections", "wotrus") and parts[-1] == "pki":
        return pathlib.Path(*parts[:-3])
    if not (ROOT / "plugins" / "module_utils" / "_wotrus" / "protocol.py").is_file():
        raise CollectionNotFound(
            "wotrus_sandbox runs from a checkout of the wotrus.pki collection (install it with "
            "`pip install -e .` from the checkout); %s is not one" % ROOT)
    collections = ROOT / ".collections"
    link = collections / "ansible_collections" / "wotrus" / "pki"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(os.path.join("..", "..", ".."), str(link))
        except FileExistsError:
            pass
    return collections


def _import(name):
    collections = str(_collections_dir())
    if collections not in sys.path:
        sys.path.insert(0, collections)
    module = importlib.import_module("%s.%s" % (MODULE_UTILS, name))
    where = pathlib.Path(module.__file__).resolve()
    if ROOT not in where.parents:
        raise CollectionNotFound("%s.%s was imported from %s, not from the checkout the sandbox runs from (%s)"
                                 % (MODULE_UTILS, name, where, ROOT))
    return module


protocol = _import("_wotrus.protocol")
sectigo_dcv = _import("_sectigo.dcv")
jintong_signing = _import("_jintong.signing")
sm2 = _import("_sm2")

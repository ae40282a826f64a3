# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.wotrus.pki`` importable in pytest: put the
checkout's ``.collections`` (a link ansible_collections/wotrus/pki -> the
checkout, made by ``make venv``) on sys.path, creating the link if needed."""

from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_parts = ROOT.split(os.sep)
if len(_parts) >= 3 and _parts[-3] == "ansible_collections":
    # ansible-test units: the checkout already sits at ansible_collections/wotrus/pki.
    COLLECTIONS = os.sep.join(_parts[:-3])
else:
    COLLECTIONS = os.path.join(ROOT, ".collections")
    link = os.path.join(COLLECTIONS, "ansible_collections", "wotrus", "pki")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(os.path.join("..", "..", ".."), link)
        except FileExistsError:
            pass
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

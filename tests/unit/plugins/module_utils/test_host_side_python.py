# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules that run on managed hosts, and every module_utils they import, load on
the Pythons ansible-core 2.16 manages (3.6 and newer), so that certificate_status can
refuse a Python older than 3.8 by name instead of dying of a SyntaxError: no
``from __future__ import annotations`` (3.7+) and no annotation evaluated at run time."""

from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
HOST_MODULES = ("certificate_status", "certificate_deploy", "certificate_dcv_file")
IMPORT = re.compile(r"from ansible_collections\.wotrus\.pki\.plugins\.module_utils((?:\.\w+)*) import ([\w, ]+)")


def _imports(path):
    found = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for package, names in IMPORT.findall(text):
        base = os.path.join(ROOT, "plugins", "module_utils", *package.strip(".").split(".")) if package else \
            os.path.join(ROOT, "plugins", "module_utils")
        for name in (n.strip().split(" ")[0] for n in names.split(",")):
            for cand in (os.path.join(base, name + ".py"), os.path.join(base, name, "__init__.py"), base + ".py"):
                if os.path.isfile(cand):
                    found.append(cand)
                    break
    return found


def host_side_files():
    todo = [os.path.join(ROOT, "plugins", "modules", m + ".py") for m in HOST_MODULES]
    seen = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += _imports(path)
    return sorted(seen)


def test_the_walk_finds_the_module_utils():
    names = [os.path.relpath(p, ROOT) for p in host_side_files()]
    assert "plugins/module_utils/_x509.py" in names and "plugins/module_utils/_files.py" in names


@pytest.mark.parametrize("path", host_side_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_loads_on_old_pythons(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    futures = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "__future__"
               for a in n.names]
    assert "annotations" not in futures
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations += [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation]
            annotations += [node.returns] if node.returns else []
        for ann in annotations:
            assert isinstance(ann, ast.Constant) and isinstance(ann.value, str), \
                "%s:%d: an annotation evaluated at run time" % (path, node.lineno)

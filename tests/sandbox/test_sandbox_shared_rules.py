# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox reads the collection's own rules: the very modules the collection imports."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib

from wotrus_sandbox import collection

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_sandbox_imports_the_collections_modules_of_this_checkout():
    for attr, name in (("protocol", "_wotrus.protocol"), ("sectigo_dcv", "_sectigo.dcv"),
                       ("jintong_signing", "_jintong.signing")):
        module = getattr(collection, attr)
        assert module is importlib.import_module("ansible_collections.wotrus.pki.plugins.module_utils." + name)
        assert pathlib.Path(module.__file__).resolve() == ROOT / "plugins" / "module_utils" / (
            name.replace(".", "/") + ".py")


def test_no_second_copy_of_the_shared_package():
    assert importlib.util.find_spec("wotrus_sandbox.shared") is None

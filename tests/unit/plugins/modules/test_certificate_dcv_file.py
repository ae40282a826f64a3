# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_dcv_file on a temp web root: publish, idempotence, check mode,
removal with the directories it made, and refusal of other paths."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.modules import certificate_dcv_file

NAME = "0123456789ABCDEF0123456789ABCDEF.txt"
CONTENT = "A" * 64 + "\nsectigo.com"


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            certificate_dcv_file.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def webroot(tmp_path):
    root = tmp_path / "html"
    root.mkdir()
    return root


def target(root):
    return str(root / ".well-known" / "pki-validation" / NAME)


def test_publish_then_nothing_then_remove(webroot, capsys):
    path = target(webroot)
    out = run(dict(files=[dict(path=path, content=CONTENT)]), capsys)
    assert out["changed"] and out["paths"] == [path]
    assert out["created_dirs"] == [str(webroot / ".well-known"), str(webroot / ".well-known" / "pki-validation")]
    with open(path) as handle:
        assert handle.read() == CONTENT
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o755"
    again = run(dict(files=[dict(path=path, content=CONTENT)]), capsys)
    assert not again["changed"] and again["paths"] == [] and again["created_dirs"] == []
    gone = run(dict(state="absent", files=[dict(path=path)], dirs=out["created_dirs"]), capsys)
    assert gone["changed"] and gone["paths"] == [path]
    assert not (webroot / ".well-known").exists() and webroot.is_dir()
    assert not run(dict(state="absent", files=[dict(path=path)]), capsys)["changed"]


def test_existing_directories_and_other_files_stay(webroot, capsys):
    d = webroot / ".well-known" / "pki-validation"
    d.mkdir(parents=True)
    (d / "other.txt").write_text("keep")
    path = target(webroot)
    out = run(dict(files=[dict(path=path, content=CONTENT)]), capsys)
    assert out["created_dirs"] == []
    run(dict(state="absent", files=[dict(path=path)], dirs=[str(d), str(webroot / ".well-known")]), capsys)
    assert (d / "other.txt").read_text() == "keep"


def test_check_mode_writes_nothing(webroot, capsys):
    path = target(webroot)
    out = run(dict(files=[dict(path=path, content=CONTENT)], _ansible_check_mode=True), capsys)
    assert out["changed"] and not os.path.exists(path) and not (webroot / ".well-known").exists()


def test_changed_content_is_rewritten(webroot, capsys):
    path = target(webroot)
    run(dict(files=[dict(path=path, content="old")]), capsys)
    assert run(dict(files=[dict(path=path, content=CONTENT)]), capsys)["changed"]
    with open(path) as handle:
        assert handle.read() == CONTENT


@pytest.mark.parametrize("path", ["/etc/passwd", "relative/.well-known/pki-validation/x.txt",
                                  "/var/www/.well-known/pki-validation/../../x.txt",
                                  "/var/www/.well-known/pki-validation/x.php"])
def test_other_paths_are_refused(path, capsys):
    out = run(dict(state="absent", files=[dict(path=path)]), capsys)
    assert out["failed"] and "pki-validation" in out["msg"]


def test_missing_web_root_is_an_error(tmp_path, capsys):
    path = str(tmp_path / "nowhere" / ".well-known" / "pki-validation" / NAME)
    out = run(dict(files=[dict(path=path, content=CONTENT)]), capsys)
    assert out["failed"] and "does not exist" in out["msg"]

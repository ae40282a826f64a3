# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic file writer: options checked before writing, mode and owner
set before the file has its name, a failure or a kill at any step leaves the
old file, check mode and diffs."""

from __future__ import annotations

import glob
import os
import stat

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils import _files

OLD = b"old content\n" * 100
NEW = b"new content\n" * 300


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def temps(directory):
    return glob.glob(os.path.join(str(directory), _files.TEMP_PREFIX + "*"))


class FakeModule(object):
    """What the writer uses of AnsibleModule: check mode, backups, SELinux."""

    def __init__(self, check_mode=False, selinux=False):
        self.check_mode = check_mode
        self.selinux = selinux
        self.contexts = {}
        self.set_on = []

    def selinux_enabled(self):
        return self.selinux

    def selinux_context(self, path):
        return list(self.contexts.get(path, ["system_u", "object_r", "cert_t", "s0"]))

    def selinux_default_context(self, path):
        return ["system_u", "object_r", "default_t", "s0"]

    def set_context_if_different(self, path, context, changed):
        self.set_on.append((os.path.basename(path), list(context), os.path.exists(path)))
        return True

    def backup_local(self, path):
        backup = path + ".bak~"
        with open(path, "rb") as src, open(backup, "wb") as dst:
            dst.write(src.read())
        return backup


# -- options, checked before anything is written ----------------------------------------------
@pytest.mark.parametrize("value,expect", [
    (None, None), (0o640, 0o640), ("0644", 0o644), ("644", 0o644), ("0600", 0o600), ("u=rw,g=r,o=r", 0o644),
    ("u=rw,go=", 0o600),
])
def test_modes_that_are_modes(value, expect):
    assert _files.parse_mode(value) == expect


@pytest.mark.parametrize("value", ["999", "0o644", "rwxrwxrwx", "", True, 0o10000, -1, "u=rwz"])
def test_modes_that_are_not_name_the_option(value):
    with pytest.raises(_files.FileError) as err:
        _files.parse_mode(value, "key_mode")
    assert err.value.option == "key_mode" and err.value.msg.startswith("key_mode: ")


def test_owner_and_group():
    assert _files.lookup_owner("root") == 0 and _files.lookup_owner("0") == 0 and _files.lookup_owner(None) is None
    assert _files.lookup_group("0") == 0
    with pytest.raises(_files.FileError, match="^owner: there is no user 'no-such-user-wotrus'"):
        _files.lookup_owner("no-such-user-wotrus")
    with pytest.raises(_files.FileError, match="^group: there is no group 'no-such-group-wotrus'"):
        _files.file_attrs("0644", None, "no-such-group-wotrus")


def test_check_target(tmp_path):
    assert _files.check_target(str(tmp_path / "f"), "cert_path") == str(tmp_path / "f")
    with pytest.raises(_files.FileError, match="^cert_path: %s is a directory, not a file$" % tmp_path):
        _files.check_target(str(tmp_path), "cert_path")
    with pytest.raises(_files.FileError, match="^chain_path: directory %s of .* does not exist$" % (tmp_path / "no")):
        _files.check_target(str(tmp_path / "no" / "f"), "chain_path")


# -- the write ------------------------------------------------------------------------------------
def test_mode_and_content_are_final_before_the_file_has_its_name(tmp_path, monkeypatch):
    """What a reader could open at the instant of the rename: the whole content, the final mode."""
    path = str(tmp_path / "www.key")
    with open(path, "wb") as f:
        f.write(OLD)
    os.chmod(path, 0o644)
    seen, synced = [], []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src, dst):
        with open(src, "rb") as f:
            seen.append((mode(src), f.read(), list(synced)))
        return real_replace(src, dst)

    def fsync(fd):
        synced.append(fd)
        return real_fsync(fd)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    _files.write_atomic(path, NEW, _files.FileAttrs(mode=0o600))
    monkeypatch.undo()
    assert seen == [(0o600, NEW, seen[0][2])] and seen[0][2], "the data was fsynced before the rename"
    assert len(synced) == 2  # the file, then its directory after the rename
    assert mode(path) == 0o600 and open(path, "rb").read() == NEW
    assert not temps(tmp_path)


def test_the_temporary_file_is_private_from_its_creation(tmp_path, monkeypatch):
    """Even a reader that lists the directory finds nothing readable while the file is written."""
    modes = []
    real_write = os.fdopen

    def fdopen(fd, *a, **kw):
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, *a, **kw)
    monkeypatch.setattr(os, "fdopen", fdopen)
    _files.write_atomic(str(tmp_path / "f"), NEW, _files.FileAttrs(mode=0o644))
    monkeypatch.undo()
    assert modes == [0o600]


def test_unset_attributes_keep_the_replaced_files(tmp_path):
    path = str(tmp_path / "f")
    with open(path, "wb") as f:
        f.write(OLD)
    os.chmod(path, 0o640)
    _files.write_atomic(path, NEW)
    assert mode(path) == 0o640
    umask = os.umask(0o022)
    try:
        _files.write_atomic(str(tmp_path / "new"), NEW)
    finally:
        os.umask(umask)
    assert mode(str(tmp_path / "new")) == 0o644


def test_owner_and_group_are_set(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    path = str(tmp_path / "f")
    _files.write_atomic(path, NEW, _files.FileAttrs(mode=0o640, uid=1, gid=2))
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, mode(path)) == (1, 2, 0o640)


@pytest.mark.parametrize("failing", ["fsync", "replace", "fchmod", "fchown"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, failing):
    path = str(tmp_path / "f")
    with open(path, "wb") as f:
        f.write(OLD)
    os.chmod(path, 0o644)

    def fail(*a, **kw):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError):
        _files.write_atomic(path, NEW, _files.FileAttrs(mode=0o600, uid=os.geteuid(), gid=os.getegid()))
    monkeypatch.undo()
    assert open(path, "rb").read() == OLD and mode(path) == 0o644
    assert not temps(tmp_path)


def test_selinux_context_is_set_on_the_temporary_file_before_the_rename(tmp_path):
    module = FakeModule(selinux=True)
    path = str(tmp_path / "f")
    _files.write_atomic(path, NEW, module=module)  # new: the default context of the path
    with open(path, "wb") as f:
        f.write(OLD)
    module.contexts[path] = ["system_u", "object_r", "cert_t", "s0"]
    _files.write_atomic(path, NEW, _files.FileAttrs(secontext=(None, None, "httpd_cert_t", None)), module=module)
    assert [(name.startswith(_files.TEMP_PREFIX), ctx, exists) for name, ctx, exists in module.set_on] == [
        (True, ["system_u", "object_r", "default_t", "s0"], True),
        (True, ["system_u", "object_r", "httpd_cert_t", "s0"], True),  # the replaced file's, the asked type wins
    ]


def test_replace_symlink(tmp_path):
    path = str(tmp_path / "link")
    with open(path, "wb") as f:
        f.write(OLD)
    _files.replace_symlink(path, "a/b")
    assert os.readlink(path) == "a/b"
    _files.replace_symlink(path, "c")
    assert os.readlink(path) == "c" and not temps(tmp_path)


# -- what a module does with one file -----------------------------------------------------------
def test_ensure_file_changes_only_what_differs(tmp_path):
    module = FakeModule()
    path = str(tmp_path / "cert.pem")
    first = _files.ensure_file(module, path, NEW.decode(), _files.FileAttrs(mode=0o644), option="cert_path")
    assert first["changed"] is True and first["diff"]["before"] == "" and first["diff"]["after"] == NEW.decode()
    again = _files.ensure_file(module, path, NEW, _files.FileAttrs(mode=0o644), option="cert_path")
    assert again["changed"] is False
    # A mode alone is a change.
    assert _files.ensure_file(module, path, NEW, _files.FileAttrs(mode=0o640), option="cert_path")["changed"]
    assert mode(path) == 0o640


def test_ensure_file_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / "cert.pem")
    with open(path, "wb") as f:
        f.write(OLD)
    result = _files.ensure_file(FakeModule(check_mode=True), path, NEW, option="cert_path", backup=True)
    assert result["changed"] is True and result["backup_file"] is None
    assert result["diff"]["before"] == OLD.decode() and result["diff"]["after"] == NEW.decode()
    assert open(path, "rb").read() == OLD and os.listdir(str(tmp_path)) == ["cert.pem"]


def test_ensure_file_keeps_secrets_out_of_the_diff(tmp_path):
    path = str(tmp_path / "k")
    with open(path, "wb") as f:
        f.write(b"key-sentinel-old\n")
    result = _files.ensure_file(FakeModule(), path, b"key-sentinel-new\n", option="key_path", secret=True)
    assert result["changed"] is True and "key-sentinel" not in repr(result)


def test_ensure_file_backup_and_a_failed_write(tmp_path, monkeypatch):
    path = str(tmp_path / "cert.pem")
    with open(path, "wb") as f:
        f.write(OLD)
    result = _files.ensure_file(FakeModule(), path, NEW, option="cert_path", backup=True)
    assert open(result["backup_file"], "rb").read() == OLD

    def fail(*a, **kw):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(_files.FileError, match="^cert_path: could not write .*No space left on device.*as it was$"):
        _files.ensure_file(FakeModule(), path, OLD + OLD, option="cert_path")
    monkeypatch.undo()
    assert open(path, "rb").read() == NEW


def test_ensure_file_refuses_a_directory(tmp_path):
    with pytest.raises(_files.FileError, match="^cert_path: .* is a directory"):
        _files.ensure_file(FakeModule(), str(tmp_path), NEW, option="cert_path")


# -- a kill at any instant ----------------------------------------------------------------------
KILL_POINTS = ("open", "fchmod", "fchown", "fsync", "replace", "close")


def write_killed_at(path, n):
    """write_atomic in a forked child whose n-th file operation is os._exit(137) (no clean-up,
    like SIGKILL). Returns whether it was killed."""
    pid = os.fork()
    if pid == 0:
        calls = [0]
        real = dict((name, getattr(os, name)) for name in KILL_POINTS)
        real_exit = os._exit

        def wrap(name):
            def op(*a, **kw):
                calls[0] += 1
                if calls[0] == n:
                    real_exit(137)
                return real[name](*a, **kw)
            return op
        for name in KILL_POINTS:
            setattr(os, name, wrap(name))
        try:
            _files.write_atomic(path, NEW, _files.FileAttrs(mode=0o600))
        except BaseException:  # pylint: disable=broad-except
            real_exit(1)
        real_exit(0)
    dummy, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) in (0, 137)
    return os.WEXITSTATUS(status) == 137


def test_a_kill_at_any_step_leaves_the_old_file_or_the_new_one(tmp_path):
    n, outcomes = 0, set()
    while True:
        n += 1
        d = tmp_path / str(n)
        d.mkdir()
        path = str(d / "www.key")
        with open(path, "wb") as f:
            f.write(OLD)
        os.chmod(path, 0o640)
        killed = write_killed_at(path, n)
        content = open(path, "rb").read()
        assert (content, mode(path)) in ((OLD, 0o640), (NEW, 0o600)), n
        outcomes.add(content)
        # A left temporary file is never readable by others.
        assert all(mode(t) == 0o600 for t in temps(d)), n
        if not killed:
            break
        _files.write_atomic(path, NEW, _files.FileAttrs(mode=0o600))  # the re-run
        assert open(path, "rb").read() == NEW and mode(path) == 0o600
    assert outcomes == {OLD, NEW} and n > 4

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic file writer: every file this collection writes on a host
(certificates, chains, keys, order records, validation files, the links of a
deployed certificate) goes through here.

How a file is written (``write_atomic``):

1. the options that can fail are checked first, before anything is written
   (``file_attrs``: mode, owner, group; ``check_target``: the path is not a
   directory and its directory exists), so a bad option never leaves a file
   half done;
2. a temporary file is made in the target's directory (``mkstemp``: mode 0600
   from its creation), its owner, group and final mode are set on the open
   file, then the data is written and fsynced -- so a key is never readable by
   anyone else, not even for an instant, and the file is complete before it
   has its name;
3. its SELinux context is set to the replaced file's (or, for a new file, the
   default of its path), as ``AnsibleModule.atomic_move`` would;
4. ``os.replace`` gives it its name (atomic: a reader sees the old file or
   the new one), and the directory is fsynced, so the rename survives a power
   cut;
5. any failure removes the temporary file and leaves the old file as it was.

Why not ``AnsibleModule.atomic_move``: after the rename it chmods a file it
*created* to ``0666 & ~umask`` and chowns it to the caller, and before the
rename it copies the replaced file's mode and owner onto the new one. Either
way a key can be visible under its name with the wrong mode for a moment,
and the mode asked for must be set again afterwards. Its cross-filesystem
fallback is not needed either: the temporary file is always in the target's
directory. So the writer does the rename itself and keeps the one part of
atomic_move that matters here, the SELinux context.

``replace_symlink`` does the same for a symbolic link (made under a temporary
name, renamed over the old link or file).
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import contextlib
import errno
import fcntl
import grp
import os
import pwd
import secrets
import stat
import tempfile
from dataclasses import dataclass

TEMP_PREFIX = ".wotrus-"


class FileError(Exception):
    """An option cannot be used for a file, or the file could not be written: ``msg`` is
    ``"<option>: <reason>"``."""

    def __init__(self, option, reason):
        self.option = option
        self.reason = reason
        self.msg = "%s: %s" % (option, reason)
        super().__init__(self.msg)


@dataclass(frozen=True)
class FileAttrs:
    """What a written file gets: mode (int), uid and gid (ints); None keeps the replaced
    file's (or, for a new file, the default: ``0666 & ~umask``, the caller's ids).
    ``secontext`` is an SELinux context list as AnsibleModule uses them (None: default)."""

    # Annotations as strings: without postponed evaluation, ``int | None`` fails on Python < 3.10.
    mode: "int | None" = None
    uid: "int | None" = None
    gid: "int | None" = None
    secontext: "tuple | None" = None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def parse_mode(value, option="mode", current=None):
    """An int mode from an int, an octal string (``"0644"``) or a symbolic one
    (``"u=rw,g=r,o=r"``, applied to ``current`` or to the default mode of a new file).
    Raises FileError naming ``option`` for anything else (``"999"``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FileError(option, "%r is not a file mode such as '0644'" % (value,))
    if isinstance(value, int):
        if 0 <= value <= 0o7777:
            return value
        raise FileError(option, "%r is not a file mode such as '0644'" % (value,))
    text = str(value).strip()
    if not text:
        raise FileError(option, "is empty; give a file mode such as '0644'")
    if text.isdigit():
        try:
            mode = int(text, 8)
        except ValueError:
            mode = -1
        if 0 <= mode <= 0o7777:
            return mode
        raise FileError(option, "%r is not an octal file mode such as '0644'" % (value,))
    # Symbolic, parsed as the file module does.
    from ansible.module_utils.basic import AnsibleModule
    base = current if current is not None else (0o666 & ~_umask())
    fake = os.stat_result((stat.S_IFREG | base, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    try:
        return AnsibleModule._symbolic_mode_to_octal(fake, text)  # pylint: disable=protected-access
    except (ValueError, TypeError, KeyError):
        raise FileError(option, "%r is neither an octal mode such as '0644' nor a symbolic one such as "
                                "'u=rw,g=r,o=r'" % (value,)) from None


def _lookup(value, option, by_name, what):
    """The id of a name or number from ``by_name`` (pwd.getpwnam / grp.getgrnam); FileError naming
    ``option`` when there is none."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        return by_name(text)
    except KeyError:
        if text.isdigit():
            return int(text)
    raise FileError(option, "there is no %s %r on this host" % (what, text))


def lookup_owner(owner, option="owner"):
    """The uid of a user name or number; FileError naming ``option`` when there is no such user."""
    return _lookup(owner, option, lambda name: pwd.getpwnam(name).pw_uid, "user")


def lookup_group(group, option="group"):
    """The gid of a group name or number; FileError naming ``option`` when there is no such group."""
    return _lookup(group, option, lambda name: grp.getgrnam(name).gr_gid, "group")


def file_attrs(mode=None, owner=None, group=None, secontext=None, mode_option="mode", owner_option="owner",
               group_option="group"):
    """Check mode, owner and group (before anything is written) and return the FileAttrs."""
    return FileAttrs(parse_mode(mode, mode_option), lookup_owner(owner, owner_option),
                     lookup_group(group, group_option), tuple(secontext) if secontext else None)


def check_target(path, option):
    """Refuse, naming ``option``, a path that cannot take a file: a directory, or one whose
    directory does not exist. Returns the absolute path."""
    if not path:
        raise FileError(option, "no path given")
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise FileError(option, "%s is a directory, not a file" % path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise FileError(option, "directory %s of %s does not exist" % (directory, path))
    return path


def read(path):
    """The bytes at ``path`` (through links), or None when there is no readable file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def fsync_dir(directory):
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _selinux_context(module, path, attrs):
    """The context a new file at ``path`` gets: the replaced file's, else the default of the path;
    parts given in ``attrs.secontext`` win. None without SELinux."""
    if module is None or not module.selinux_enabled():
        return None
    if os.path.lexists(path):
        context = module.selinux_context(path)
    else:
        context = module.selinux_default_context(path)
    if attrs is not None and attrs.secontext:
        context = [given if given is not None else had for given, had in zip(attrs.secontext, context)]
    return context


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path, data, attrs=None, module=None):
    """Write ``data`` (bytes) to ``path`` atomically and durably, mode and owner set before
    the file gets its name. On failure the old file is untouched and no temporary file is left.
    Raises OSError."""
    attrs = attrs or FileAttrs()
    directory = os.path.dirname(path) or "."
    try:
        old = os.stat(path)
    except OSError:
        old = None
    mode = attrs.mode if attrs.mode is not None else (
        stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask())
    uid = attrs.uid if attrs.uid is not None else (old.st_uid if old is not None else -1)
    gid = attrs.gid if attrs.gid is not None else (old.st_gid if old is not None else -1)
    context = _selinux_context(module, path, attrs)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)  # 0600 from its creation
    try:
        with os.fdopen(fd, "wb") as handle:
            if (uid, gid) != (-1, -1):
                try:
                    os.fchown(handle.fileno(), uid, gid)
                except OSError as exc:
                    # Not root: keeping the replaced file's ids may be impossible (as for atomic_move);
                    # ids that were asked for must be set.
                    if exc.errno != errno.EPERM or attrs.uid is not None or attrs.gid is not None:
                        raise
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if context is not None:
            module.set_context_if_different(tmp, context, False)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    fsync_dir(directory)


def replace_symlink(path, target, module=None):
    """Make ``path`` a symbolic link to ``target`` in one rename (over a file or a link)."""
    directory = os.path.dirname(path) or "."
    context = _selinux_context(module, path, None)
    while True:  # os.symlink will not take an existing name: pick a free one
        tmp = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
        try:
            os.symlink(target, tmp)
            break
        except FileExistsError:
            continue
    try:
        if context is not None:
            module.set_context_if_different(tmp, context, False)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    fsync_dir(directory)


def make_dirs(directories, mode=0o755):
    """Make each directory of ``directories`` that does not exist, with its missing parents, each
    with ``mode`` (as ``ansible.builtin.file state=directory`` does). Returns those made, parents
    first. Raises FileError (option ``directory``)."""
    made = []
    for directory in directories:
        directory = os.path.abspath(directory)
        todo = []
        while directory and not os.path.isdir(directory):
            todo.append(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        for one in reversed(todo):
            try:
                os.mkdir(one, mode)
                os.chmod(one, mode)  # a directory, not a secret: the umask may have taken bits away
            except FileExistsError:
                if not os.path.isdir(one):
                    raise FileError("directory", "%s exists and is not a directory" % one) from None
                continue
            except OSError as exc:
                raise FileError("directory", "could not make %s (%s)" % (one, exc.strerror or exc)) from None
            made.append(one)
    return made


def differs(path, data, attrs):
    """Whether writing would change ``path``: its bytes, or the mode, owner or group asked for."""
    try:
        st = os.stat(path)
    except OSError:
        return True
    if attrs.mode is not None and stat.S_IMODE(st.st_mode) != attrs.mode:
        return True
    if attrs.uid is not None and st.st_uid != attrs.uid:
        return True
    if attrs.gid is not None and st.st_gid != attrs.gid:
        return True
    return read(path) != data


def ensure_file(module, path, data, attrs=None, option="path", secret=False, backup=False):
    """What a module does with one file: check the path, write it when its content, mode,
    owner or group differ (nothing in check mode), and say so.

    Concurrent runs that write the same directory take turns (an exclusive ``flock`` of the
    directory itself, which leaves no lock file behind), so of several runs writing the same
    bytes exactly one says ``changed``.

    Returns ``dict(changed, diff, backup_file, path)``; the diff shows the content before and
    after, or only that it changed when ``secret``. Raises FileError naming ``option``."""
    attrs = attrs or FileAttrs()
    path = check_target(path, option)
    data = data.encode("utf-8") if isinstance(data, str) else data
    with _directory_lock(os.path.dirname(path), exclusive=not module.check_mode):
        return _ensure_file_locked(module, path, data, attrs, option, secret, backup)


@contextlib.contextmanager
def _directory_lock(directory, exclusive=True):
    """Hold an flock of ``directory`` (shared, or exclusive for writers) while the block runs."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield  # the write reports what is wrong with the directory
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def _ensure_file_locked(module, path, data, attrs, option, secret, backup):
    before = read(path)
    changed = differs(path, data, attrs)
    if secret:
        diff = dict(before_header=path, after_header=path,
                    before="(secret, %s)" % ("absent" if before is None else "not shown"),
                    after="(secret, %s)" % ("changed" if changed else "unchanged"))
    else:
        diff = dict(before_header=path, after_header=path,
                    before=before.decode("utf-8", "replace") if before is not None else "",
                    after=data.decode("utf-8", "replace"))
    backup_file = None
    if changed and not module.check_mode:
        try:
            if backup and before is not None and before != data:
                backup_file = module.backup_local(path)
            write_atomic(path, data, attrs, module)
        except Exception as exc:  # pylint: disable=broad-except  # backup_local raises a bare Exception
            raise FileError(option, "could not write %s (%s); the file is as it was"
                            % (path, exc.__cause__ or exc)) from None
    return dict(changed=changed, diff=diff, backup_file=backup_file, path=path)

"""Private local directories: the per-user directory `<tmp>/wren-<uid>` and everything wren
keeps below it (localhost storage, the worker's module cache).

A directory that anyone else could have created or can write into is a way to run code as
the user (a planted status document, function blob or shipped module is loaded from it),
so wren creates its directories 0700 and refuses an existing one that is a symbolic link,
is owned by another user (root excepted) or is group- or world-writable, with an error that
names the path, what was found and the fix. The per-user directory, which only wren uses, is
tightened to 0700 when it is merely readable by others (as older versions left it).
Removing one (`wren clean`) checks the same way first, so a planted link or another user's
directory at that path never makes wren delete files that are not this user's own.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from wren._errors import StorageError

__all__ = ["ensure_private_dir", "make_private_dirs", "remove_private_dir", "user_dir"]

PRIVATE_MODE = 0o700
_ATTEMPTS = 10


def _uid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def user_dir() -> Path:
    """`<tmp>/wren-<uid>`: this user's directory for wren's local files (not created)."""
    return Path(_temp_root()) / f"wren-{_uid() or 0}"


_temp_found: list[str] = []


def _temp_root() -> str:
    """The directory `tempfile.gettempdir()` names, without importing `tempfile` (and with
    it `shutil`, `bz2`, `lzma`, `random`: milliseconds of a first job) while nothing in
    this process has: the first of `$TMPDIR`, `$TEMP`, `$TMP`, `/tmp`, `/var/tmp`,
    `/usr/tmp` and the working directory that is a directory this user may create files
    in (`os.access`, where `tempfile` writes a probe file). Once `tempfile` is imported,
    or when no candidate passes, it is `tempfile.gettempdir()` itself (which also honours
    a `tempfile.tempdir` set by the program)."""
    module = sys.modules.get("tempfile")
    if module is None and not _temp_found and os.name == "posix":
        candidates = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
        candidates += ["/tmp", "/var/tmp", "/usr/tmp", _cwd()]
        for candidate in filter(None, candidates):
            folder = os.path.abspath(candidate)
            if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
                _temp_found.append(folder)
                break
    if module is None and _temp_found:
        return _temp_found[0]
    import tempfile

    return tempfile.gettempdir()


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return os.curdir


def _problem(path: Path, uid: int) -> str | None:
    """Why `path` is not safe to use, or None when it is (an existing directory)."""
    info = os.lstat(path)
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return f"is a symbolic link (to {os.readlink(path)!r}, owned by uid {info.st_uid})"
    if not stat.S_ISDIR(info.st_mode):
        return f"is not a directory (owner uid {info.st_uid}, mode {mode:04o})"
    if info.st_uid not in (uid, 0):
        return (f"is owned by uid {info.st_uid}, not by you (uid {uid}), mode {mode:04o}")
    if mode & 0o022:
        return (f"is writable by other users (owner uid {info.st_uid}, mode {mode:04o}; "
                "it must not be group- or world-writable)")
    return None


def make_private_dirs(path: Path) -> bool:
    """Create `path` and its missing parents, each 0700 (a parent made by someone else
    meanwhile is left as it is; the caller checks `path` itself). A parent removed meanwhile
    (an empty prefix directory another process deleted) is made again. Raises the `OSError`
    of a part of the path that is not a directory. True when this call made `path` (so it
    is a directory); False when something was there already.

    The leaf is tried first and parents only when it cannot be made: a new job's directory
    usually has all its parents, and each file-system call counts when a job's first status
    waits for its directory."""
    for attempt in range(_ATTEMPTS):
        try:
            return _make_dir(path)
        except FileNotFoundError:
            if attempt == _ATTEMPTS - 1:
                raise
    return False  # unreachable: the last attempt returns or raises


def _make_dir(path: Path) -> bool:
    try:
        os.mkdir(path, PRIVATE_MODE)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        if path.parent == path:
            raise
    _make_dir(path.parent)
    try:
        os.mkdir(path, PRIVATE_MODE)
        return True
    except FileExistsError:
        return False


def ensure_private_dir(path: str | os.PathLike[str], *, fix: str) -> Path:
    """Create `path` (and missing parents) 0700, or check the existing directory there is
    safe: not a symbolic link, owned by this user (or root), not group- or world-writable.
    A path inside the per-user directory checks that one first (and tightens it to 0700).
    Raises `StorageError` naming the path, what was found and `fix` (the remedy, e.g.
    "remove it")."""
    path = Path(path)
    home = user_dir()
    if home in path.parents:
        _ensure(home, fix, tighten=True)
    return _ensure(path, fix, tighten=path == home)


def _ensure(path: Path, fix: str, *, tighten: bool) -> Path:
    uid = _uid()
    if uid is None:  # no POSIX ownership to check (Windows): just make it
        path.mkdir(parents=True, exist_ok=True)
        return path
    try:
        make_private_dirs(path)
        problem = _problem(path, uid)
    except OSError as exc:
        raise StorageError(f"wren cannot create the directory {str(path)!r}: {exc}. To fix "
                           f"it: {fix}") from exc
    if problem is not None:
        raise StorageError(
            f"wren refuses to use the directory {str(path)!r}: it {problem}, so someone else "
            f"could plant files there that wren would load and run as you. To fix it: {fix}")
    if tighten:
        info = os.lstat(path)
        if info.st_uid == uid and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, PRIVATE_MODE)
    return path


def _not_own(path: Path, uid: int) -> str | None:
    """Why wren must not delete `path` as this user's, or None (an own real directory)."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return f"is a symbolic link (to {os.readlink(path)!r}, owned by uid {info.st_uid})"
    if not stat.S_ISDIR(info.st_mode):
        return f"is not a directory (owner uid {info.st_uid})"
    if info.st_uid != uid:
        return f"is owned by uid {info.st_uid}, not by you (uid {uid})"
    return None


def remove_private_dir(path: str | os.PathLike[str]) -> bool:
    """Delete `path`, a directory wren made for this user, with everything in it; False
    when there is none. It and each directory from the per-user one down to it must be a
    real directory (no symbolic link) owned by this user, else nothing is deleted and a
    `StorageError` names what was found there."""
    path = Path(path)
    home = user_dir()
    chain = [path]
    if home in path.parents:
        chain = [home, *[p for p in reversed(path.parents) if home in p.parents], path]
    uid = _uid()
    for directory in chain:
        if not os.path.lexists(directory):
            return False
        problem = None if uid is None else _not_own(directory, uid)
        if problem is not None:
            raise StorageError(f"wren left {str(directory)!r} alone: it {problem}, so it is "
                               "not a directory wren made for you")
    import shutil  # only `wren clean` removes a directory

    shutil.rmtree(path)
    return True

"""The shared-memory side of `localhost` storage: big buffers as files under `/dev/shm`.

`SharedArea` mirrors the storage directory's layout (`<bucket>/<key>`) in a private (0700)
directory of this user on shared memory, `/dev/shm/wren-<uid>/<digest of the storage
directory>` (`shared_memory_dir` names another filesystem), so its objects are listed and
deleted with the keys of their job. Files are written once (`wren.serialize.local_buffers`).

Nothing outlives its owner: each client process holds one lock file (`OWNERS/<name>`) for
its lifetime, and the executor prefixes it claims (`<bucket>/wren.jobs/<executor>`) name
that lock in a hidden `OWNER_FILE`. Every new `SharedArea` removes the prefixes (of any
storage directory of this user) whose lock nobody holds any more (a client that was killed,
or closed without cleaning), prefixes without an owner left for longer than `ORPHAN_AGE`,
and the directories and locks that leaves unused.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import threading
import time
import uuid
from pathlib import Path

from wren.private_dirs import ensure_private_dir, make_private_dirs

__all__ = ["ORPHAN_AGE", "OWNERS", "OWNER_FILE", "SharedArea", "shared_root"]

#: Hidden (never listed: it starts like a temp file) name of a claimed prefix's owner.
OWNER_FILE = ".wren-tmp-owner"
#: Directory (in the user's shared directory) of the live clients' lock files.
OWNERS = ".wren-tmp-owners"
#: Prefixes without an owner (written by workers only) are removed after this many seconds.
ORPHAN_AGE = 3600.0
#: Executor prefixes a worker remembers seeing claimed (forgotten all at once past this)
_SEEN_CLAIMS = 256
_FIX = "remove it, or set localhost.shared_memory to false"
_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: This process's lock, by user shared directory: (file name, descriptor held open).
_locks: dict[Path, tuple[str, int]] = {}
_locks_guard = threading.Lock()
#: The executor prefixes this process claimed (released at exit when nothing else is left).
_claims: set[Path] = set()
#: The user shared directories this process swept already.
_swept: set[Path] = set()


def shared_root(storage_root: Path, shm: Path) -> Path | None:
    """Where the shared area of the storage directory `storage_root` lives in the
    shared-memory filesystem `shm` (None when that is not usable here)."""
    if not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK) or not hasattr(os, "geteuid"):
        return None
    digest = hashlib.sha256(str(storage_root.resolve()).encode()).hexdigest()[:16]
    return shm / f"wren-{os.geteuid()}" / digest


def _process_lock(top: Path) -> str:
    """The name of this process's lock file in `top`, made and locked on first use."""
    with _locks_guard:
        found = _locks.get(top)
        if found is not None:
            return found[0]
        make_private_dirs(top / OWNERS)
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        fd = os.open(top / OWNERS / name, os.O_RDWR | os.O_CREAT | os.O_EXCL | _FLAGS, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        _locks[top] = (name, fd)
        return name


def _forget_locks_after_fork() -> None:
    _locks.clear()  # a forked child holds no lock of its own yet
    _claims.clear()
    _swept.clear()


def _release_claims() -> None:
    """At exit: remove each prefix this process claimed that holds nothing but its owner
    file (with the directories that leaves empty), then this process's lock files, so the
    next client's sweep has nothing of a cleanly ended client to remove. Whatever is left
    (buffers of a job not cleaned) names a lock nobody holds any more: the sweep's."""
    with _locks_guard:
        for prefix in sorted(_claims):
            try:
                if os.listdir(prefix) != [OWNER_FILE]:
                    continue
                os.unlink(prefix / OWNER_FILE)
                os.rmdir(prefix)
                for parent in (prefix.parent, prefix.parent.parent, prefix.parents[2]):
                    os.rmdir(parent)  # the kind, bucket and storage directories, if empty
            except OSError:
                continue
        _claims.clear()
        for top, (name, fd) in list(_locks.items()):
            with contextlib.suppress(OSError):
                os.unlink(top / OWNERS / name)
            with contextlib.suppress(OSError):
                os.close(fd)
        _locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_after_fork)


class SharedArea:
    """One storage directory's objects kept in shared memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.top = root.parent
        self._claimed: set[Path] = set()
        self._seen: set[Path] = set()  # executor prefixes other processes were seen to own
        self._owner_dirs: dict[tuple[str, str, str], Path] = {}
        self._ready = False

    def prepare(self) -> None:
        """Check (or create) the user's private directory and sweep what dead owners left
        (once per process: a client's executor and its compute each have a storage)."""
        if self._ready:
            return
        ensure_private_dir(self.top, fix=_FIX)  # what is below is made 0700 on use
        self._ready = True
        with _locks_guard:
            if self.top in _swept:
                return
            _swept.add(self.top)
        self.sweep()

    def _owner_dir(self, bucket: str, key: str) -> Path:
        """The executor prefix of `key` (kept per executor: every flush of a worker asks)."""
        parts = key.split("/", 2)
        if len(parts) < 3:
            raise ValueError(f"{key!r} has no executor prefix (<kind>/<executor>/...)")
        named = (bucket, parts[0], parts[1])
        found = self._owner_dirs.get(named)
        if found is None:
            if len(self._owner_dirs) >= _SEEN_CLAIMS:
                self._owner_dirs.clear()
            found = self._owner_dirs[named] = self.root / bucket / parts[0] / parts[1]
        return found

    def own(self, bucket: str, key: str) -> None:
        """Name this process (alive as long as its lock is held) the owner of the executor
        prefix of `key` (its first two parts)."""
        prefix = self._owner_dir(bucket, key)
        if prefix in self._claimed:
            return
        name = _process_lock(self.top)
        make_private_dirs(prefix)
        fd = os.open(prefix / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _FLAGS, 0o600)
        try:
            os.write(fd, name.encode())
        finally:
            os.close(fd)
        self._claimed.add(prefix)
        with _locks_guard:
            if not _claims:
                atexit.register(_release_claims)
            _claims.add(prefix)

    def claimed(self, bucket: str, key: str) -> bool:
        """Whether a live process owns the executor prefix of `key`. A claim once seen is
        remembered: the executor's tasks stop coming when its process ends."""
        prefix = self._owner_dir(bucket, key)
        if prefix in self._claimed or prefix in self._seen:
            return True
        if self._abandoned(prefix, None):
            return False
        if len(self._seen) >= _SEEN_CLAIMS:
            self._seen.clear()
        self._seen.add(prefix)
        return True

    def sweep(self) -> None:
        """Remove the executor prefixes whose owner is gone, of every storage directory of
        this user, then the directories and owner locks that leaves unused."""
        now = time.time()
        for prefix in _below(self.top, 4):
            if prefix in self._claimed or prefix.is_symlink() or not prefix.is_dir():
                continue
            if self._abandoned(prefix, now):
                _remove_tree(prefix)
        for depth in (3, 2, 1):  # storage, bucket and kind directories
            for directory in _below(self.top, depth):
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only when empty
        for lock in _below(self.top / OWNERS, 1):
            if not _held(lock):
                with contextlib.suppress(OSError):
                    lock.unlink()

    def _abandoned(self, prefix: Path, now: float | None) -> bool:
        """Whether no live process owns `prefix` (one without an owner counts once older
        than `ORPHAN_AGE`, or at once when `now` is None)."""
        try:  # os-level: a worker asks this at its first flush of every new executor
            fd = os.open(os.path.join(prefix, OWNER_FILE), os.O_RDONLY | _FLAGS)
            try:
                name = os.read(fd, 200).decode("ascii", "replace")
            finally:
                os.close(fd)
        except FileNotFoundError:
            if now is None:
                return True
            with contextlib.suppress(OSError):
                return now - prefix.stat().st_mtime > ORPHAN_AGE
            return False
        except OSError:
            return now is None
        if not name or "/" in name or name.startswith("."):
            return True
        return not _held(os.path.join(self.top, OWNERS, name))


def _below(top: Path, depth: int) -> list[Path]:
    """Every entry `depth` levels below `top` (what `top.glob("*/" * (depth - 1) + "*")`
    finds: hidden names too, through linked directories), listed with `os.scandir`, which
    costs a first job a fraction of what pathlib's globbing does."""
    level = [str(top)]
    for remaining in range(depth, 0, -1):
        found = []
        for folder in level:
            try:
                with os.scandir(folder) as listing:
                    found.extend(entry.path for entry in listing
                                 if remaining == 1 or entry.is_dir())
            except OSError:
                continue
        level = found
    return [Path(path) for path in level]


def _remove_tree(top: Path) -> None:
    """Remove `top` and everything below it, never following a link, ignoring what is
    already gone (what `shutil.rmtree(top, ignore_errors=True)` does, without importing
    `shutil`, which costs a fresh client milliseconds: a dead client's leftovers are
    removed by the next client's first job)."""
    for folder, folders, files in os.walk(top, topdown=False):
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
        for name in folders:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.rmdir(path)
    with contextlib.suppress(OSError):
        os.rmdir(top)


def _held(lock: Path | str) -> bool:
    """Whether some live process holds the lock file `lock`."""
    try:
        fd = os.open(lock, os.O_RDWR | _FLAGS)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False

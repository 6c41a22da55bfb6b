"""The shared-memory side of `localhost` storage: big buffers as files under `/dev/shm`.

`SharedArea` mirrors the storage directory's layout (`<bucket>/<key>`) in a private
directory of this user on shared memory, `/dev/shm/wren-<uid>/<digest of the storage
directory>` (`shared_memory_dir` names another filesystem than /dev/shm) (0700, checked like the storage directory), so its objects are listed and
deleted with the keys of their job. Files are written once (`wren.serialize.local_buffers`).

Nothing outlives its owner: the client that first writes under an executor's prefix
(`<bucket>/wren.jobs/<executor>`) holds a lock file there for its lifetime, and every new
`SharedArea` removes the prefixes (of any storage directory) whose lock nobody holds any more (a client that was killed,
or closed without cleaning), and prefixes without a lock left for longer than `ORPHAN_AGE`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
from pathlib import Path

from wren.private_dirs import ensure_private_dir, make_private_dirs

__all__ = ["ORPHAN_AGE", "OWNER_FILE", "SharedArea", "shared_root"]

#: Hidden (never listed: it starts like a temp file) lock of an executor prefix's owner.
OWNER_FILE = ".wren-tmp-owner"
#: Prefixes without an owner (written by workers only) are removed after this many seconds.
ORPHAN_AGE = 3600.0
_FIX = "remove it, or set localhost.shared_memory to false"


def shared_root(storage_root: Path, shm: Path) -> Path | None:
    """Where the shared area of the storage directory `storage_root` lives in the
    shared-memory filesystem `shm` (None when that is not usable here)."""
    if not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK) or not hasattr(os, "geteuid"):
        return None
    digest = hashlib.sha256(str(storage_root.resolve()).encode()).hexdigest()[:16]
    return shm / f"wren-{os.geteuid()}" / digest


class SharedArea:
    """One storage directory's objects kept in shared memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._held: dict[Path, int] = {}
        self._seen: set[Path] = set()
        self._ready = False

    def prepare(self) -> None:
        """Create (or check) the private directory and sweep what dead owners left."""
        if self._ready:
            return
        ensure_private_dir(self.root.parent, fix=_FIX)  # what is below is made 0700 on use
        self._ready = True
        self.sweep()

    def path(self, relative: Path) -> Path:
        return self.root / relative

    def _owner_dir(self, bucket: str, key: str) -> Path:
        parts = key.split("/")
        if len(parts) < 3:
            raise ValueError(f"{key!r} has no executor prefix (<kind>/<executor>/...)")
        return self.root / bucket / parts[0] / parts[1]

    def own(self, bucket: str, key: str) -> None:
        """Hold the lock of the executor prefix of `key` (first two parts) for as long as
        this process lives."""
        prefix = self._owner_dir(bucket, key)
        if prefix in self._held:
            return
        make_private_dirs(prefix)
        fd = os.open(prefix / OWNER_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0), 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._held[prefix] = fd

    def claimed(self, bucket: str, key: str) -> bool:
        """Whether a live process holds the lock of the executor prefix of `key`."""
        prefix = self._owner_dir(bucket, key)
        if prefix in self._held or prefix in self._seen:
            return True
        if _abandoned(prefix, None):
            return False
        self._seen.add(prefix)
        return True

    def sweep(self) -> None:
        """Remove the executor prefixes whose owner is gone, of every storage directory of
        this user, and the directories that leaves empty."""
        now = time.time()
        top = self.root.parent
        for prefix in top.glob("*/*/*/*"):
            if prefix in self._held or prefix.is_symlink() or not prefix.is_dir():
                continue
            if _abandoned(prefix, now):
                shutil.rmtree(prefix, ignore_errors=True)
        for pattern in ("*/*/*", "*/*", "*"):  # storage, bucket and kind directories
            for directory in top.glob(pattern):
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only when empty

    def close(self) -> None:
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()


def _abandoned(prefix: Path, now: float | None) -> bool:
    """Whether no live process holds the lock of `prefix` (one without a lock file counts
    once older than `ORPHAN_AGE`, or at once when `now` is None)."""
    lock = prefix / OWNER_FILE
    try:
        fd = os.open(lock, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if now is None:
            return True
        with contextlib.suppress(OSError):
            return now - prefix.stat().st_mtime > ORPHAN_AGE
        return False
    except OSError:
        return now is None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live owner holds it
    finally:
        os.close(fd)
    return True

"""`localhost` storage: objects as files, `<storage_dir>/<bucket>/<key>`.

The key is the file's path below the bucket directory, so data dropped into a bucket
directory by hand is readable by wren and the other way round. Writes go to a hidden temp
file in the same directory and are renamed into place, so concurrent writers and readers
never see a partial object. Because keys are paths, `a` and `a/b` cannot both be objects;
a key ending in `/` creates the "directory" only and is never listed.

Everything is private to the user: the storage directory is checked (or created 0700) before
the first object is read or written, bucket and prefix directories are created 0700 and
objects 0600 (opened with `O_EXCL | O_NOFOLLOW`, so nothing planted can redirect a write).

With `shared_memory` (the default where /dev/shm exists), `put_shared` keeps big buffers in
this user's private directory on shared memory instead (`wren_backend_local.shared_memory`):
they are read, listed and deleted like the other objects of the bucket.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar

from wren import InvalidInputError, StorageError, StorageNoSuchKeyError
from wren.ports import ObjectInfo, StorageBackend, capabilities
from wren.ports.storage import Body
from wren.private_dirs import make_private_dirs
from wren.protocol import keys
from wren.serialize.local_buffers import BufferRef, write_buffer
from wren.streams import LimitedRaw

from wren_backend_local.config import STORAGE_SCHEMA, default_storage_dir, prepare_storage_dir
from wren_backend_local.shared_memory import SharedArea, shared_root

TEMP_PREFIX = ".wren-tmp-"
_JOBS = keys.JOBS_PREFIX.rstrip("/")
_COPY_BLOCK = 1 << 20
OBJECT_MODE = 0o600
_CREATE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _is_status(parts: list[str]) -> bool:
    """Whether the checked key `parts` name a job's status object (or their directory).

    Those are written where the client of their executor claimed shared memory, as long as
    it lives: a job's statuses are small, written once per flush, read through the push
    channel and deleted with the job, and on the disk of a small machine making their
    directory took ~0.3 ms and each file ~0.1 ms, more than the calls of a short job.
    Reading, listing and deleting look in both places; what a dead client left there is
    swept like its buffers."""
    return len(parts) == 5 and parts[3] == "status" and parts[0] == _JOBS


def _write_all(fd: int, body: bytes | bytearray | memoryview) -> None:
    view = memoryview(body)
    if view.ndim != 1 or view.itemsize != 1:
        view = view.cast("B")
    while view:
        view = view[os.write(fd, view):]


class LocalhostStorage(StorageBackend):
    """Storage backend over the local filesystem."""

    name: ClassVar[str] = "localhost"
    capabilities = frozenset({capabilities.BYTE_RANGE, capabilities.STREAMING})
    config_schema = STORAGE_SCHEMA

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.root = Path(str(self.config.get("storage_dir") or
                             default_storage_dir())).expanduser()
        self._checked = False
        #: Each bucket's directory once its name was checked (as a string: the hot paths
        #: join strings, which costs a fraction of joining `Path`s).
        self._buckets: dict[str, str] = {}
        shm = shared_root(self.root, Path(str(self.config.get("shared_memory_dir")
                                                or "/dev/shm"))) \
            if self.config.get("shared_memory", True) else None
        self.shared = SharedArea(shm) if shm is not None else None
        if self.shared is not None:
            self.capabilities = self.capabilities | {capabilities.SHARED_MEMORY}

    def _bucket_dir(self, bucket: str) -> Path:
        return Path(self._bucket_root(bucket))

    def _bucket_root(self, bucket: str) -> str:
        found = self._buckets.get(bucket)
        if found is not None:
            return found
        if not bucket or "/" in bucket or bucket in (".", "..") or "\0" in bucket:
            raise InvalidInputError(f"invalid bucket name {bucket!r}: use a plain directory "
                                    "name without '/'")
        if not self._checked:  # once: nobody else can change a private directory
            prepare_storage_dir(self.root)
            if self.shared is not None:
                self.shared.prepare()
            self._checked = True
        found = self._buckets[bucket] = os.path.join(self.root, bucket)
        return found

    def warm_up(self, bucket: str) -> None:
        """Check the storage directory and sweep the shared area now, not in the first job
        (a refused directory is reported by the first use, as it always was)."""
        try:
            self._bucket_root(bucket)
        except (StorageError, InvalidInputError, OSError):
            pass

    @staticmethod
    def _make_dirs(directory: Path, bucket: str, key: str) -> None:
        try:
            made = make_private_dirs(directory) or directory.is_dir()
        except (FileExistsError, NotADirectoryError):
            made = False
        if not made:
            raise StorageError(f"cannot store {key!r} in bucket {bucket!r}: a part of its path "
                               "is already an object (localhost storage keeps keys as file "
                               "paths)")

    @staticmethod
    def _parts(key: str) -> list[str]:
        """The path parts of `key`, once checked to name a file inside the bucket."""
        parts = key.split("/")
        if (not key or key.startswith("/") or "\0" in key
                or any(p in (".", "..") for p in parts) or "" in parts[:-1]
                or parts[-1].startswith(TEMP_PREFIX)):
            raise InvalidInputError(
                f"invalid key {key!r} for localhost storage: keys are relative paths without "
                f"empty, '.' or '..' parts")
        return parts

    def _path(self, bucket: str, key: str) -> Path:
        return Path(os.path.join(self._bucket_root(bucket), *self._parts(key)))

    def _directory(self, bucket: str, parts: list[str]) -> str:
        """The directory of the key of these checked `parts` (a string, not a `Path`: every
        status a worker reports is written through it): in shared memory for a job's status
        objects while their client lives (see `_is_status`)."""
        root = self._bucket_root(bucket)
        if self.shared is not None and _is_status(parts) and self.shared.claimed(
                bucket, parts[0] + "/" + parts[1] + "/"):
            root = self._shared_bucket(bucket)
        return os.path.join(root, *parts[:-1])

    def make_prefix(self, bucket: str, prefix: str) -> None:
        """Make the directory of `prefix` (which ends with "/") ahead of its first object."""
        self._make_dirs(Path(self._directory(bucket, self._parts(prefix))), bucket, prefix)

    def put_object(self, bucket: str, key: str, body: Body) -> None:
        if key.endswith("/"):  # a directory marker: only its parents are made
            self._make_dirs(self._path(bucket, key).parent, bucket, key)
            return
        parts = self._parts(key)
        directory = self._directory(bucket, parts)
        path = os.path.join(directory, parts[-1])
        temp = os.path.join(directory, f"{TEMP_PREFIX}{uuid.uuid4().hex}")
        try:  # the directory usually exists (a job writes many objects to it): try first
            fd = os.open(temp, _CREATE_FLAGS, OBJECT_MODE)
        except (FileNotFoundError, NotADirectoryError):
            self._make_dirs(Path(directory), bucket, key)
            fd = os.open(temp, _CREATE_FLAGS, OBJECT_MODE)
        written = False
        try:
            if isinstance(body, (bytes, bytearray, memoryview)):
                try:  # straight to the descriptor: a status write of every flush
                    _write_all(fd, body)
                finally:
                    os.close(fd)
            else:
                import shutil  # a file-like body only: bytes need none

                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(body, out, _COPY_BLOCK)
            os.replace(temp, path)
            written = True
        except IsADirectoryError as exc:
            raise StorageError(f"cannot store {key!r} in bucket {bucket!r}: other objects live "
                               "under it as a prefix") from exc
        finally:
            if not written:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)

    def put_shared(self, bucket: str, key: str, data: memoryview,
                   writable: bool = False) -> BufferRef:
        parts = self._parts(key)
        if self.shared is None or key.endswith("/"):
            self.unsupported("put_shared", "set localhost.shared_memory to true")
        self._bucket_root(bucket)  # checks the bucket and prepares the shared area
        target = os.path.join(self._shared_bucket(bucket), *parts)
        self._make_dirs(Path(target).parent, bucket, key)
        return write_buffer(target, data, writable)

    def share_prefix(self, bucket: str, prefix: str, claim: bool) -> bool:
        self._parts(prefix)  # checks the key
        self._bucket_root(bucket)  # and the storage directory
        if self.shared is None:
            return False
        if claim:
            self.shared.own(bucket, prefix)
            return True
        return self.shared.claimed(bucket, prefix)

    def _candidates(self, bucket: str, key: str) -> list[str]:
        """Where the object of `key` may be: the storage directory, then shared memory (the
        other way round for a status object, which is mostly there). Strings, not `Path`s:
        reading and cleaning each job's statuses goes through here."""
        parts = self._parts(key)
        path = os.path.join(self._bucket_root(bucket), *parts)
        if self.shared is None:
            return [path]
        shared = os.path.join(self._shared_bucket(bucket), *parts)
        return [shared, path] if _is_status(parts) else [path, shared]

    def _shared_bucket(self, bucket: str) -> str:
        assert self.shared is not None
        return os.path.join(self.shared.root, bucket)

    def _open(self, bucket: str, key: str) -> io.BufferedReader:
        for path in self._candidates(bucket, key):
            try:
                return open(path, "rb")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
        raise StorageNoSuchKeyError(bucket, key)

    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        with self._open(bucket, key) as handle:
            if byte_range is None:
                return handle.read()
            start, end = byte_range
            if end <= start:
                return b""
            handle.seek(start)
            return handle.read(end - start)

    def get_object_stream(self, bucket: str, key: str,
                          byte_range: tuple[int, int] | None = None) -> IO[bytes]:
        handle = self._open(bucket, key)
        if byte_range is None:
            return handle
        start, end = byte_range
        handle.seek(start)
        return io.BufferedReader(LimitedRaw(handle, end - start))

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        for path in self._candidates(bucket, key):
            try:
                stat = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if os.path.isfile(path):
                return ObjectInfo(key, stat.st_size, stat.st_mtime)
        raise StorageNoSuchKeyError(bucket, key)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        found = self._list_under(self._bucket_root(bucket), prefix)
        if self.shared is not None:
            found.extend(self._list_under(self._shared_bucket(bucket), prefix))
        found.sort(key=lambda info: info.key)
        return iter(found)

    @staticmethod
    def _list_under(base: str, prefix: str) -> list[ObjectInfo]:
        start = os.path.join(base, *prefix.split("/")[:-1]) if "/" in prefix else base
        found: list[ObjectInfo] = []
        for directory, _dirs, files in os.walk(start):
            rel = os.path.relpath(directory, base)
            head = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in files:
                key = head + name
                if name.startswith(TEMP_PREFIX) or not key.startswith(prefix):
                    continue
                try:
                    stat = os.stat(os.path.join(directory, name))
                except FileNotFoundError:
                    continue
                found.append(ObjectInfo(key, stat.st_size, stat.st_mtime))
        return found

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        parents: set[str] = set()
        for key in keys:
            for path in self._candidates(bucket, key):
                try:
                    os.unlink(path)
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    continue
                parents.add(os.path.dirname(path))
        _prune(parents, self._bucket_root(bucket))
        if self.shared is not None:
            _prune(parents, self._shared_bucket(bucket))

    def bucket_exists(self, bucket: str) -> bool:
        return self._bucket_dir(bucket).is_dir()

    def create_bucket(self, bucket: str) -> None:
        directory = self._bucket_dir(bucket)
        make_private_dirs(directory)
        if not directory.is_dir():
            raise StorageError(f"cannot create bucket {bucket!r}: {str(directory)!r} is a file")


def _prune(parents: set[str], base: str) -> None:
    """Remove the now empty directories among `parents` (and theirs) below `base`."""
    below = os.path.join(base, "")
    for parent in sorted(parents, key=lambda p: p.count(os.sep), reverse=True):
        while parent.startswith(below):
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

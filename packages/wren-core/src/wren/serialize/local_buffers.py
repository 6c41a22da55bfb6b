"""Big buffers handed between processes of one user on one machine as private files.

A writer puts a buffer in a new file of a private (0700) directory on shared memory
(`write_buffer`) and gets a `BufferRef`: the file's path and identity (device, inode, size,
change time). The reference travels inside an authenticated pickle (sealed with the
executor's key, or inline in the invocation), so it cannot be forged; `read_buffer` opens
the file without following links and refuses it (`TamperedDataError`) unless it is still
that very file: a regular file of this user, private, with one link, and the same inode,
size and change times. Only this user (or root) can write in the private directory, and
anyone who can already runs code as this user, so that check authenticates the bytes
without an HMAC pass over them; replacing or rewriting the file changes its inode or
change time and is refused.
"""

from __future__ import annotations

import os
import stat
from typing import NamedTuple

from wren._errors import TamperedDataError

__all__ = ["BufferRef", "read_buffer", "write_buffer"]

_CREATE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
           | getattr(os, "O_CLOEXEC", 0))
_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class BufferRef(NamedTuple):
    """Where one out-of-band buffer lives, and the identity its file must still have."""

    path: str
    size: int
    device: int
    inode: int
    ctime_ns: int
    mtime_ns: int
    #: Read back as a `bytearray` (the original buffer was writable), else as `bytes`.
    writable: bool = False


def write_buffer(path: str, data: memoryview, writable: bool = False) -> BufferRef:
    """Write `data` to a new private file at `path` (never an existing one) and return
    its reference."""
    fd = os.open(path, _CREATE, 0o600)
    try:
        view = data.cast("B") if data.format != "B" or data.ndim != 1 else data
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])
        info = os.fstat(fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    return BufferRef(path, info.st_size, info.st_dev, info.st_ino, info.st_ctime_ns,
                     info.st_mtime_ns, writable)


def _problem(ref: BufferRef, info: os.stat_result) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"it belongs to uid {info.st_uid}"
    if stat.S_IMODE(info.st_mode) & 0o077 or info.st_nlink != 1:
        return "it is not private to this user"
    if (info.st_dev, info.st_ino) != (ref.device, ref.inode):
        return "it was replaced"
    if (info.st_size, info.st_ctime_ns, info.st_mtime_ns) != (ref.size, ref.ctime_ns,
                                                               ref.mtime_ns):
        return "it was changed after it was written"
    return None


def _read_into(fd: int, view: memoryview) -> int:
    with os.fdopen(os.dup(fd), "rb", buffering=0) as raw:
        got = 0
        while got < len(view):
            count = raw.readinto(view[got:])
            if not count:
                break
            got += count
    return got


def read_buffer(ref: BufferRef) -> bytes | bytearray:
    """The bytes of the buffer `ref` names, after checking its file is still the one
    written (`TamperedDataError` otherwise, or when it is gone)."""
    try:
        fd = os.open(ref.path, _OPEN)
    except OSError as exc:
        raise TamperedDataError(ref.path, f"it cannot be opened: {exc.strerror}") from None
    try:
        problem = _problem(ref, os.fstat(fd))
        if problem is not None:
            raise TamperedDataError(ref.path, problem)
        if ref.writable:
            out: bytes | bytearray = bytearray(ref.size)
            got = _read_into(fd, memoryview(out))
        else:
            out = os.read(fd, ref.size)
            got = len(out)
            while got < ref.size:  # a short read: rare, finish it with copies
                more = os.read(fd, ref.size - got)
                if not more:
                    break
                out += more
                got = len(out)
    finally:
        os.close(fd)
    if got != ref.size:
        raise TamperedDataError(ref.path, "it is shorter than written")
    return out

"""Readable files over part of another stream: a byte range of a local file (localhost
storage and local inputs), and the body of an HTTP response (skipping to the start when a
server answers a ranged request with the whole object). A light module on purpose: storage
adapters import it in every worker."""

from __future__ import annotations

import io
from typing import IO, Any

_SKIP_BLOCK = 1 << 20


class LimitedRaw(io.RawIOBase):
    """At most `limit` bytes of `source` (from its current position); closes it on close."""

    def __init__(self, source: Any, limit: int) -> None:
        self._source, self._left = source, max(0, limit)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")[:self._left]
        readinto = getattr(self._source, "readinto", None)
        if readinto is not None:
            count = readinto(view) or 0
        else:
            data = self._source.read(len(view))
            count = len(data)
            view[:count] = data
        self._left -= count
        return count

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


def skip(source: Any, count: int) -> None:
    """Read and drop `count` bytes of a stream that cannot seek."""
    while count > 0:
        data = source.read(min(count, _SKIP_BLOCK))
        if not data:
            return
        count -= len(data)


def open_file_range(path: str, start: int, end: int) -> IO[bytes]:
    """A buffered file over bytes [start, end) of a local file (clipped to the file)."""
    handle = open(path, "rb")  # noqa: SIM115 - owned by the returned reader
    handle.seek(start)
    return io.BufferedReader(LimitedRaw(handle, end - start), buffer_size=_SKIP_BLOCK)

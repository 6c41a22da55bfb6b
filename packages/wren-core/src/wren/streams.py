"""Readable raw files over other sources, shared by every storage adapter: part of another
stream (a byte range of a local file, the body of an HTTP or SDK response, skipping to the
start when a server answers a ranged request with the whole object), and an iterator of byte
chunks read only as fast as it is consumed. Wrap them in `io.BufferedReader` for
`readline` and line iteration. A light module on purpose: storage adapters import it in
every worker."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
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


def unlimited(source: Any) -> LimitedRaw:
    """All of `source` (a response body with `read`), closed with the reader."""
    return LimitedRaw(source, sys.maxsize)


class ChunkRaw(io.RawIOBase):
    """Read-only, forward-only file over an iterator of byte chunks: one chunk is held at a
    time and the next is asked for only when the last one was read; closing closes the
    iterator when it can be closed."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._current = memoryview(chunk)
        count = min(len(buffer), len(self._current))
        memoryview(buffer).cast("B")[:count] = self._current[:count]
        self._current = self._current[count:]
        return count

    def close(self) -> None:
        self._current = memoryview(b"")
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
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

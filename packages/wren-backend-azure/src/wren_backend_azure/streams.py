"""A raw binary file over an iterator of byte chunks, read only as fast as it is consumed.

`AzureBlobStorage.get_object_stream` wraps the SDK downloader's chunk iterator with it, so a
reader of a multi-gigabyte blob holds one chunk in memory at a time and each chunk is
requested only when the previous one has been read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any


class ChunkReader(io.RawIOBase):
    """Read-only, forward-only file over `chunks`."""

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

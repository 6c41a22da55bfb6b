"""A tiny shared-memory table where each worker writes the call it is running and since
when; the pool reads it to enforce timeouts and to name the call a dead worker was running.

One writer per row, 16 bytes a row (call index, start time), in a file mapped by both sides.
Writing costs a microsecond, far less than a message per call would.
"""

from __future__ import annotations

import mmap
import os
import struct
import time

_ROW = struct.Struct("<qd")
IDLE = -1


class SlotTable:
    """The mapped file; the pool creates it, workers open it by path."""

    def __init__(self, path: str, rows: int, create: bool = False) -> None:
        self.path, self.rows = path, rows
        size = rows * _ROW.size
        if create:
            with open(path, "wb") as handle:
                handle.truncate(size)
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, size)

    def grow(self, rows: int) -> None:
        if rows <= self.rows:
            return
        self._map.close()
        os.ftruncate(self._fd, rows * _ROW.size)
        self._map = mmap.mmap(self._fd, rows * _ROW.size)
        self.rows = rows

    def write(self, row: int, call_index: int) -> None:
        _ROW.pack_into(self._map, row * _ROW.size, call_index, time.time())

    def read(self, row: int) -> tuple[int, float]:
        """The row's call index and start time; `(IDLE, now)` while a write is under way
        (`struct.pack_into` zeroes the row before filling it, and the index goes first, so a
        zero time means the row is being written)."""
        index, since = _ROW.unpack_from(self._map, row * _ROW.size)
        if since == 0.0:
            return IDLE, time.time()
        return int(index), float(since)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

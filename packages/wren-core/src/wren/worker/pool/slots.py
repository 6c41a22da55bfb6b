"""A tiny shared-memory table where each worker writes the call it is running; the pool
reads it to enforce timeouts and to name the call a dead worker was running.

Each row holds two 64-bit integers: the index of the current call (-1 when idle) and a
counter the worker bumps for every call. Writing is two integer stores into a mapped file
(about a tenth of a microsecond), far less than a message per call would cost. The pool
samples the rows and times a call from the moment it first saw its counter value, which is
exact to within the sampling interval.
"""

from __future__ import annotations

import mmap
import os

IDLE = -1
_FIELDS = 2
_ROW_BYTES = 8 * _FIELDS


class SlotTable:
    """The mapped file; the pool creates it, workers open it by path."""

    def __init__(self, path: str, rows: int, create: bool = False) -> None:
        self.path, self.rows = path, rows
        if create:
            with open(path, "wb") as handle:
                handle.truncate(rows * _ROW_BYTES)
        self._fd = os.open(path, os.O_RDWR)
        self._map()

    def _map(self) -> None:
        self._mmap = mmap.mmap(self._fd, self.rows * _ROW_BYTES)
        self._view = memoryview(self._mmap).cast("q")

    def grow(self, rows: int) -> None:
        if rows <= self.rows:
            return
        self._view.release()
        self._mmap.close()
        os.ftruncate(self._fd, rows * _ROW_BYTES)
        self.rows = rows
        self._map()

    def writer(self, row: int) -> WriteCall:
        """A callable `(call_index) -> None` for the worker that owns `row`."""
        return WriteCall(self._view, row)

    def reset(self, row: int) -> None:
        self._view[row * _FIELDS] = IDLE

    def read(self, row: int) -> tuple[int, int]:
        """The row's current call index and call counter."""
        base = row * _FIELDS
        return self._view[base], self._view[base + 1]

    def close(self) -> None:
        self._view.release()
        self._mmap.close()
        os.close(self._fd)


class WriteCall:
    """Records the start of each call in one row (index, then a bumped counter)."""

    __slots__ = ("_base", "_count", "_view")

    def __init__(self, view: memoryview, row: int) -> None:
        self._view, self._base, self._count = view, row * _FIELDS, 0

    def __call__(self, index: int) -> None:
        self._count += 1
        self._view[self._base] = index
        self._view[self._base + 1] = self._count

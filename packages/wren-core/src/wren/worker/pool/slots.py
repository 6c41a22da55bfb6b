"""A tiny shared-memory table where each worker writes the call it is running; the pool
reads it to enforce timeouts and to name the call a dead worker was running.

Each row is one 64-bit integer: the index of the current call (-1 when idle). The worker's
call loop writes it before each call (`run_task`'s `mark`: one store into a mapped file, a
few tens of nanoseconds), far less than a message per call would cost. The pool samples
the rows and times a call from the moment it first saw its index in the current task,
which is exact to within the sampling interval (indices are unique within a task).
"""

from __future__ import annotations

import mmap
import os

IDLE = -1  # what the runner writes between tasks (`wren.worker.runner.NO_CALL`)
_ROW_BYTES = 8


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

    def mark(self, row: int) -> tuple[memoryview, int]:
        """Where the worker that owns `row` writes its call index (`run_task`'s `mark`)."""
        return self._view, row

    def reset(self, row: int) -> None:
        self._view[row] = IDLE

    def read(self, row: int) -> int:
        """The index of the call the row's worker is running (`IDLE` when none)."""
        return int(self._view[row])

    def close(self) -> None:
        self._view.release()
        self._mmap.close()
        os.close(self._fd)

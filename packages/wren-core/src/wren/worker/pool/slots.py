"""A tiny shared-memory table where each worker writes the call it is running; the pool
reads it to enforce timeouts and to name the call a dead worker was running, and writes
there when it wants a worker's calls not started yet back.

Each row is two 64-bit integers: the mark of the current call (-1 when idle), and the
pool's request to give back the task's calls not started (1 when asked). The worker's
call loop writes the index before each call (`run_task`'s `mark`: one store into a mapped
file, a few tens of nanoseconds), far less than a message per call would cost; before a
group of calls that proved short, which run without a step of Python between them, it
writes `group_mark` of the group's first index instead: one of the calls from there on
runs (`marked_call`). The pool samples the rows and times a call from the moment it first
saw its mark in the current task, which is exact to within the sampling interval (marks
are unique within a task).
"""

from __future__ import annotations

import mmap
import os

IDLE = -1  # what the runner writes between tasks (`wren.worker.runner.NO_CALL`)
_FIRST_GROUP_MARK = -2  # the mark of a group from call 0; then -3 from call 1, and so on
_FIELDS = 2  # the running call's index, the request to give calls back
_ROW_BYTES = 8 * _FIELDS


def group_mark(first: int) -> int:
    """The mark of a group of calls from index `first` on (always below `IDLE`)."""
    return _FIRST_GROUP_MARK - first


def marked_call(mark: int) -> tuple[int, bool]:
    """The call index a mark names, and whether it is that call for sure (False for a group
    mark: that call or one after it). `IDLE` stays `(IDLE, True)`."""
    if mark >= IDLE:
        return mark, True
    return _FIRST_GROUP_MARK - mark, False


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
        return self._view, row * _FIELDS

    def reset(self, row: int) -> None:
        self._view[row * _FIELDS] = IDLE
        self._view[row * _FIELDS + 1] = 0

    def read(self, row: int) -> int:
        """The mark of the call the row's worker is running (`IDLE` when none; see
        `marked_call`)."""
        return int(self._view[row * _FIELDS])

    def ask_back(self, row: int, asked: bool = True) -> None:
        """Ask the row's worker to give back the calls of its task it has not started (or
        take the request back)."""
        self._view[row * _FIELDS + 1] = int(asked)

    def asked_back(self, row: int) -> bool:
        """Whether the pool asks the row's worker for its calls not started; a request is
        answered once (reading it takes it)."""
        field = row * _FIELDS + 1
        if not self._view[field]:
            return False
        self._view[field] = 0
        return True

    def close(self) -> None:
        self._view.release()
        self._mmap.close()
        os.close(self._fd)

"""`LineRangeReader`: the streaming reader behind the `lines` partitioner.

Partition `[start, end)` owns exactly the lines whose first byte lies in it. Its reader opens
the object at `start - len(newline)` (to see whether a newline ends just before `start`),
skips to the first line start (unless `start` is 0) without ever reading past `end` — a
partition that no line starts in is empty — then passes the rest of its range through
untouched, and finally, unless the range already ends with a newline, reads on past `end`
(ranges of growing size, read a block at a time) until the newline that ends its last line
or the object's end. Only the
edges are searched, so the middle of a chunk streams at the speed of the underlying file, and
a line of any length spanning any number of chunks is read by exactly one of them.

The newline may be several bytes (`\\r\\n`) but must have no border (no proper prefix that is
also a suffix), so its occurrences never overlap and a reader starting anywhere finds the
same ones as a reader starting at the object's beginning.
"""

from __future__ import annotations

import io
from typing import IO, Any

from wren.ports.partitioner import Partition, RangeOpener

BLOCK = 1 << 20
FIRST_TAIL_BLOCK = 64 * 1024
MAX_TAIL_BLOCK = 16 << 20


def has_border(separator: bytes) -> bool:
    """True when a proper prefix of `separator` is also its suffix (e.g. `aa`, `abca`)."""
    return any(separator[:n] == separator[-n:] for n in range(1, len(separator)))


def _read_into(stream: IO[bytes], view: memoryview) -> int:
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto(view) or 0
    data = stream.read(len(view))
    view[:len(data)] = data
    return len(data)


class LineRangeReader(io.RawIOBase):
    """A raw, read-only file over the whole lines that start in one partition."""

    def __init__(self, partition: Partition, open_range: RangeOpener, newline: bytes,
                 block: int = BLOCK) -> None:
        self._part, self._open, self._sep, self._block = partition, open_range, newline, block
        self._k = len(newline)
        self._state = "new"  # new -> main -> tail -> done
        self._pending = memoryview(b"")
        self._stream: IO[bytes] | None = None
        self._pos = 0  # absolute offset of the next byte the current source gives
        self._last = b""  # the last len(newline) bytes read from the partition's own range
        self._carry = b""
        self._tail_block = FIRST_TAIL_BLOCK

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        while True:
            if self._pending:
                count = min(len(view), len(self._pending))
                view[:count] = self._pending[:count]
                self._pending = self._pending[count:]
                return count
            if self._state == "main":
                count = self._read_main(view)
                if count:
                    return count
                self._finish_main()
            elif self._state == "tail":
                self._read_tail()
            elif self._state == "new":
                self._begin()
            else:
                return 0

    def readall(self) -> bytes:
        chunks = []
        buffer = bytearray(self._block)
        while count := self.readinto(buffer):
            chunks.append(bytes(buffer[:count]))
        return b"".join(chunks)

    def close(self) -> None:
        self._drop_stream()
        self._state = "done"
        super().close()

    # Phases -------------------------------------------------------------------------------
    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _remember(self, data: bytes | memoryview) -> None:
        k = self._k
        self._last = (self._last + bytes(data[-k:]))[-k:]

    def _begin(self) -> None:
        part, k = self._part, self._k
        if part.start >= part.end:
            self._state = "done"
            return
        first = max(0, part.start - k) if part.start > 0 else 0
        self._stream = self._open(first, part.end)
        self._pos = first
        self._state = "main"
        if part.start > 0:
            self._skip_partial_line()

    def _skip_partial_line(self) -> None:
        """Drop bytes up to the first line start at or after `start`, staying before `end`."""
        assert self._stream is not None
        k, carry = self._k, b""
        while True:
            chunk = self._stream.read(min(self._block, self._part.end - self._pos))
            if not chunk:  # no line starts in this partition
                self._drop_stream()
                self._state = "done"
                return
            base = self._pos - len(carry)
            self._pos += len(chunk)
            self._remember(chunk)
            data = carry + chunk if carry else chunk
            found = data.find(self._sep)
            if found >= 0:
                if base + found + k >= self._part.end:
                    self._drop_stream()
                    self._state = "done"
                else:
                    self._pending = memoryview(data)[found + k:]
                return
            carry = data[1 - k:] if k > 1 else b""

    def _read_main(self, view: memoryview) -> int:
        left = self._part.end - self._pos
        if left <= 0 or self._stream is None:
            return 0
        count = _read_into(self._stream, view[:left])
        if count:
            self._pos += count
            self._remember(view[:count])
        return count

    def _finish_main(self) -> None:
        self._drop_stream()
        part = self._part
        if self._pos < part.end or part.end >= part.size or self._last == self._sep:
            self._state = "done"  # the object ended, or the range ends with a newline
            return
        self._carry = self._last[1 - self._k:] if self._k > 1 else b""
        self._state = "tail"

    def _read_tail(self) -> None:
        """Read on past `end`, a block at a time from ranges of growing size, until the
        newline that ends the partition's last line (or the object's end)."""
        fresh = self._stream is None
        if fresh:
            if self._pos >= self._part.size:
                self._state = "done"
                return
            stop = min(self._part.size, self._pos + self._tail_block)
            self._tail_block = min(self._tail_block * 2, MAX_TAIL_BLOCK)
            self._stream = self._open(self._pos, stop)
        assert self._stream is not None
        chunk = self._stream.read(self._block)
        if not chunk:
            self._drop_stream()
            if fresh:  # the object ended before its planned size
                self._state = "done"
            return
        carry = self._carry
        data = carry + chunk if carry else chunk
        found = data.find(self._sep)
        if found >= 0:
            self._pending = memoryview(chunk)[:found + self._k - len(carry)]
            self._drop_stream()
            self._state = "done"
            return
        self._pending = memoryview(chunk)
        self._pos += len(chunk)
        self._carry = data[1 - self._k:] if self._k > 1 else b""

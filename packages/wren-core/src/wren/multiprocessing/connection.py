"""`Pipe()`: two `Connection` ends over a pair of Redis lists (it needs Redis).

Each direction is a list; `send` pushes a sealed pickle, `recv` pops one (blocking). `close`
pushes a sealed end-of-stream marker, so the other end's `recv` raises `EOFError` once it has
read everything sent before, as with an OS pipe. `Pipe(duplex=False)` gives a read-only and
a write-only end.
"""

from __future__ import annotations

import time
from typing import Any

from wren.multiprocessing.shared import SharedObject

_POLL = 0.02


class _EndOfStream:
    """The marker a closed end leaves for its peer."""


class Connection(SharedObject):
    """One end of a `Pipe`: `send`/`recv`, `send_bytes`/`recv_bytes`, `poll`, `close`."""

    kind = "pipe"

    def __init__(self, inbox: str | None, outbox: str | None, **shared: Any) -> None:
        super().__init__(**shared)
        self._inbox, self._outbox = inbox, outbox
        self._closed = False
        self._eof = False

    def _public_state(self) -> dict[str, Any]:
        return {"_inbox": self._inbox, "_outbox": self._outbox, "_closed": self._closed,
                "_eof": False}

    def _keys(self) -> list[str]:
        return [self.key(box) for box in (self._inbox, self._outbox) if box]

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def readable(self) -> bool:
        return self._inbox is not None

    @property
    def writable(self) -> bool:
        return self._outbox is not None

    def _check(self, box: str | None, what: str) -> str:
        if self._closed:
            raise OSError("handle is closed")
        if box is None:
            raise OSError(f"connection is {'read' if what == 'write' else 'write'}-only")
        return box

    def send(self, obj: Any) -> None:
        box = self._check(self._outbox, "write")
        pipe = self._redis.pipeline()
        pipe.rpush(self.key(box), self._seal(obj, box))
        self._touch(pipe, self.key(box))
        pipe.execute()

    def recv(self) -> Any:
        box = self._check(self._inbox, "read")
        if self._eof:
            raise EOFError
        _, blob = self._redis.blpop([self.key(box)], timeout=0)
        value = self._open(blob, box)
        if isinstance(value, _EndOfStream):
            self._eof = True
            raise EOFError
        return value

    def send_bytes(self, buf: bytes | bytearray | memoryview, offset: int = 0,
                   size: int | None = None) -> None:
        view = memoryview(buf).cast("B")
        if offset < 0 or offset > len(view):
            raise ValueError("offset is out of range")
        end = len(view) if size is None else offset + size
        if size is not None and (size < 0 or end > len(view)):
            raise ValueError("size is out of range")
        self.send(bytes(view[offset:end]))

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        data = self.recv()
        if not isinstance(data, bytes):
            raise OSError("the message received was not sent with send_bytes")
        if maxlength is not None and len(data) > maxlength:
            raise OSError("bad message length")
        return data

    def poll(self, timeout: float | None = 0.0) -> bool:
        """True when `recv` would not block (a message or the end of the stream waits)."""
        box = self._check(self._inbox, "read")
        if self._eof:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._redis.llen(self.key(box)):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
        return True

    def close(self) -> None:
        if self._closed:
            return
        if self._outbox is not None:
            self.send(_EndOfStream())
        self._closed = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def Pipe(duplex: bool = True) -> tuple[Connection, Connection]:
    """Two connected ends: `(conn1, conn2)`; with `duplex=False` conn1 only receives and
    conn2 only sends."""
    first = Connection("b2a", "a2b" if duplex else None)
    shared = {"_name": first._name, "_address": first._address}
    second = Connection("a2b" if duplex else None, "b2a", **shared)
    return first, second

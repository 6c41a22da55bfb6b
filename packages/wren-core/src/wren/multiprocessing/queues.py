"""`Queue`, `SimpleQueue` and `JoinableQueue` over a Redis list (they need Redis).

Items are sealed pickles pushed with RPUSH and taken with BLPOP, so any number of processes,
on the client or in workers, share one FIFO. `maxsize` is honoured by `put` (polling the
length, so it is a soft bound when several writers race). `close`, `join_thread` and
`cancel_join_thread` exist for compatibility: there is no feeder thread to stop.
"""

from __future__ import annotations

import queue
import time
from typing import Any

from wren.multiprocessing.shared import SharedObject

_POLL = 0.02


def _deadline(block: bool, timeout: float | None) -> float | None:
    if not block:
        return time.monotonic()
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return None if timeout is None else time.monotonic() + timeout


class Queue(SharedObject):
    """`multiprocessing.Queue`: a process-shared FIFO in Redis."""

    kind = "queue"

    def __init__(self, maxsize: int = 0, **shared: Any) -> None:
        super().__init__(**shared)
        self._maxsize = maxsize if maxsize > 0 else 0
        self._closed = False

    def _public_state(self) -> dict[str, Any]:
        return {"_maxsize": self._maxsize, "_closed": False}

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"Queue {self._name} is closed")

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        self._check_open()
        blob = self._seal(obj, "item")
        if self._maxsize:
            deadline = _deadline(block, timeout)
            while self._redis.llen(self.key()) >= self._maxsize:
                if deadline is not None and time.monotonic() >= deadline:
                    raise queue.Full
                time.sleep(_POLL)
        self._push(blob)

    def _push(self, blob: bytes) -> None:
        pipe = self._redis.pipeline()
        pipe.rpush(self.key(), blob)
        self._touch(pipe, self.key())
        pipe.execute()

    def put_nowait(self, obj: Any) -> None:
        self.put(obj, block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        self._check_open()
        if not block:
            blob = self._redis.lpop(self.key())
        else:
            if timeout is not None and timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            found = self._redis.blpop([self.key()], timeout=0 if timeout is None
                                      else max(timeout, 0.001))
            blob = found[1] if found else None
        if blob is None:
            raise queue.Empty
        return self._open(blob, "item")

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def qsize(self) -> int:
        return int(self._redis.llen(self.key()))

    def empty(self) -> bool:
        return self.qsize() == 0

    def full(self) -> bool:
        return bool(self._maxsize) and self.qsize() >= self._maxsize

    def close(self) -> None:
        self._closed = True

    def join_thread(self) -> None:
        """Nothing to join: puts reach Redis before they return."""

    def cancel_join_thread(self) -> None:
        """Nothing to cancel: puts reach Redis before they return."""


class SimpleQueue(Queue):
    """`multiprocessing.SimpleQueue`: `put`, `get`, `empty`, `close`."""

    kind = "simplequeue"

    def __init__(self, **shared: Any) -> None:
        super().__init__(0, **shared)


class JoinableQueue(Queue):
    """`multiprocessing.JoinableQueue`: a `Queue` whose consumers call `task_done` and whose
    producers can `join` until every item put was done."""

    kind = "joinablequeue"

    def _keys(self) -> list[str]:
        return [self.key(), self.key("unfinished")]

    def _push(self, blob: bytes) -> None:
        pipe = self._redis.pipeline()
        pipe.rpush(self.key(), blob)
        pipe.incr(self.key("unfinished"))
        self._touch(pipe, *self._keys())
        pipe.execute()

    def task_done(self) -> None:
        if int(self._redis.decr(self.key("unfinished"))) < 0:
            self._redis.incr(self.key("unfinished"))
            raise ValueError("task_done() called too many times")

    def join(self) -> None:
        while int(self._redis.get(self.key("unfinished")) or 0) > 0:
            time.sleep(_POLL)

"""`Lock`, `RLock`, `Semaphore`, `BoundedSemaphore` and `Event` held in Redis (they need Redis), for processes that may run on
different machines.

A lock is a Redis key set with NX to a token naming its holder; `release` deletes it (a
`Lock` may be released by anyone, an `RLock` only by its owner, which may acquire it again);
a semaphore is a counter taken and given back by Lua scripts, so each step is atomic.
Waiters poll with a short sleep. Nothing here is a pickle, so nothing needs sealing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import Any

from wren.multiprocessing.shared import SharedObject

_POLL = 0.01

_RLOCK_ACQUIRE = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if (not owner) or owner == ARGV[1] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RLOCK_RELEASE = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
local left = redis.call('HINCRBY', KEYS[1], 'count', -1)
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
"""


_SEMAPHORE_ACQUIRE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then
  redis.call('DECR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

_SEMAPHORE_RELEASE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
local bound = tonumber(ARGV[1])
if bound >= 0 and value >= bound then return -1 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return value + 1
"""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class _BaseLock(SharedObject):
    def _try(self) -> bool:
        raise NotImplementedError

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if self._try():
            return True
        if not block:
            return False
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
            if self._try():
                return True

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        raise NotImplementedError


class Lock(_BaseLock):
    """`multiprocessing.Lock`: `acquire(block=True, timeout=None)`, `release`."""

    kind = "lock"

    def _try(self) -> bool:
        token = uuid.uuid4().hex
        return bool(self._redis.set(self.key(), token, nx=True, ex=self._address.expire))

    def release(self) -> None:
        if not self._redis.delete(self.key()):
            raise ValueError("semaphore or lock released too many times")


class RLock(_BaseLock):
    """`multiprocessing.RLock`: a lock its owner (process and thread) may take again."""

    kind = "rlock"

    def _try(self) -> bool:
        return bool(self._redis.eval(_RLOCK_ACQUIRE, 1, self.key(), _owner(),
                                     self._address.expire))

    def release(self) -> None:
        if int(self._redis.eval(_RLOCK_RELEASE, 1, self.key(), _owner())) < 0:
            raise AssertionError("attempt to release recursive lock not owned by thread")


class Semaphore(_BaseLock):
    """`multiprocessing.Semaphore(value=1)`: `acquire`, `release`, `get_value`."""

    kind = "semaphore"
    _bounded = False

    def __init__(self, value: int = 1, **shared: Any) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        super().__init__(**shared)
        self._initial = value
        self._redis.set(self.key(), value, ex=self._address.expire)

    def _public_state(self) -> dict[str, Any]:
        return {"_initial": self._initial}

    def _try(self) -> bool:
        return bool(self._redis.eval(_SEMAPHORE_ACQUIRE, 1, self.key(), self._address.expire))

    def release(self) -> None:
        bound = self._initial if self._bounded else -1
        if int(self._redis.eval(_SEMAPHORE_RELEASE, 1, self.key(), bound,
                                self._address.expire)) < 0:
            raise ValueError("semaphore or lock released too many times")

    def get_value(self) -> int:
        return int(self._redis.get(self.key()) or 0)


class BoundedSemaphore(Semaphore):
    """`multiprocessing.BoundedSemaphore`: releasing above the initial value is an error."""

    kind = "boundedsemaphore"
    _bounded = True


class Event(SharedObject):
    """`multiprocessing.Event`: `set`, `clear`, `is_set`, `wait(timeout)`."""

    kind = "event"

    def set(self) -> None:
        self._redis.set(self.key(), b"1", ex=self._address.expire)

    def clear(self) -> None:
        self._redis.delete(self.key())

    def is_set(self) -> bool:
        return bool(self._redis.exists(self.key()))

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
        return True

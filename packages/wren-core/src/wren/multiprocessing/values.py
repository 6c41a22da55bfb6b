"""`Value`: one value stored in Redis as a sealed pickle (it needs Redis), with the lock
that guards read-modify-write, as `multiprocessing.Value` and `Manager().Value` offer."""

from __future__ import annotations

from typing import Any

from wren.multiprocessing.shared import SharedObject
from wren.multiprocessing.synchronize import RLock


class Value(SharedObject):
    """`multiprocessing.Value` / `Manager().Value`: one value in Redis, `.value` to read or
    write it, `get_lock()` for the lock guarding read-modify-write (`+=`)."""

    kind = "value"

    def __init__(self, typecode_or_type: Any = None, value: Any = 0, *, lock: Any = True,
                 **shared: Any) -> None:
        super().__init__(**shared)
        self._typecode = typecode_or_type
        self._lock = lock if isinstance(lock, SharedObject) else RLock() if lock else None
        self.value = value

    def _public_state(self) -> dict[str, Any]:
        return {"_typecode": self._typecode, "_lock": self._lock}

    @property
    def value(self) -> Any:
        blob = self._redis.get(self.key())
        return None if blob is None else self._open(blob, "value")

    @value.setter
    def value(self, new: Any) -> None:
        self._redis.set(self.key(), self._seal(new, "value"), ex=self._address.expire)

    def get(self) -> Any:
        return self.value

    def set(self, new: Any) -> None:
        self.value = new

    def get_lock(self) -> Any:
        if self._lock is None:
            raise AttributeError("this Value was made with lock=False")
        return self._lock

    def get_obj(self) -> Value:
        return self

    def __repr__(self) -> str:
        return f"<wren.multiprocessing Value({self._typecode!r}, {self.value!r})>"


def RawValue(typecode_or_type: Any, value: Any = 0) -> Value:
    """A `Value` without a lock."""
    return Value(typecode_or_type, value, lock=False)

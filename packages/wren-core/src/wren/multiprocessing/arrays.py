"""`Array` and `RawArray`: a fixed-length sequence in Redis (they need Redis), as
`multiprocessing.Array` offers it: indexing and slices, `len`, iteration, and `get_lock()`
for the lock that guards read-modify-write. Items are sealed pickles (see `ListProxy`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from wren.multiprocessing.proxies import ListProxy
from wren.multiprocessing.synchronize import RLock

_ZEROS = {"c": b"\x00", "u": "", "f": 0.0, "d": 0.0}


class Array:
    """A fixed-length array of `typecode` items shared through Redis."""

    def __init__(self, typecode_or_type: Any, size_or_initializer: int | Iterable[Any], *,
                 lock: Any = True) -> None:
        if isinstance(size_or_initializer, int):
            zero = _ZEROS.get(typecode_or_type, 0) if isinstance(typecode_or_type, str) else 0
            initial: list[Any] = [zero] * size_or_initializer
        else:
            initial = list(size_or_initializer)
        self._typecode = typecode_or_type
        self._items = ListProxy(initial)
        self._length = len(initial)
        self._lock = lock if lock not in (True, False) else RLock() if lock else None

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            targets = range(self._length)[index]
            values = list(value)
            if len(values) != len(targets):
                raise ValueError("Can only assign sequence of same size")
        elif not -self._length <= index < self._length:
            raise IndexError("invalid index")
        self._items[index] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def get_lock(self) -> Any:
        if self._lock is None:
            raise AttributeError("this Array was made with lock=False")
        return self._lock

    def get_obj(self) -> list[Any]:
        return self._items.copy()

    def __repr__(self) -> str:
        return f"<wren.multiprocessing Array({self._typecode!r}, {self._items.copy()!r})>"


def RawArray(typecode_or_type: Any, size_or_initializer: int | Iterable[Any]) -> Array:
    """An `Array` without a lock."""
    return Array(typecode_or_type, size_or_initializer, lock=False)

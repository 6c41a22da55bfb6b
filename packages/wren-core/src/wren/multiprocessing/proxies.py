"""The `dict` and `list` proxies of `Manager()`, stored in Redis (they need Redis).

Every stored value is a sealed pickle. A dict is a Redis hash whose fields are the sealed
pickles of the keys (sealing is deterministic, so equal keys give equal fields) and whose
values are sealed for their field, so a value cannot be moved to another key unnoticed. A
list is a Redis list of sealed items; operations Redis has no verb for (insert, sort,
delete by index...) rewrite the list in a WATCH/MULTI transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from wren.multiprocessing.shared import SharedObject

_MISSING = object()


class DictProxy(SharedObject):
    """A `dict` in Redis, as `Manager().dict()` gives."""

    kind = "dict"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        shared = {k: kwargs.pop(k) for k in ("_name", "_address") if k in kwargs}
        super().__init__(**shared)
        if args or kwargs:
            self.update(*args, **kwargs)

    def _field(self, key: Any) -> bytes:
        return self._seal(key, "key")

    def _value_part(self, field: bytes) -> str:
        return "value:" + hashlib.sha256(field).hexdigest()

    def __setitem__(self, key: Any, value: Any) -> None:
        field = self._field(key)
        pipe = self._redis.pipeline()
        pipe.hset(self.key(), field, self._seal(value, self._value_part(field)))
        self._touch(pipe, self.key())
        pipe.execute()

    def __getitem__(self, key: Any) -> Any:
        field = self._field(key)
        blob = self._redis.hget(self.key(), field)
        if blob is None:
            raise KeyError(key)
        return self._open(blob, self._value_part(field))

    def __delitem__(self, key: Any) -> None:
        if not self._redis.hdel(self.key(), self._field(key)):
            raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        return bool(self._redis.hexists(self.key(), self._field(key)))

    def __len__(self) -> int:
        return int(self._redis.hlen(self.key()))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def items(self) -> list[tuple[Any, Any]]:
        return [(self._open(field, "key"), self._open(blob, self._value_part(field)))
                for field, blob in self._redis.hgetall(self.key()).items()]

    def keys(self) -> list[Any]:
        return [self._open(field, "key") for field in self._redis.hkeys(self.key())]

    def values(self) -> list[Any]:
        return [value for _, value in self.items()]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        field = self._field(key)
        self._redis.hsetnx(self.key(), field, self._seal(default, self._value_part(field)))
        return self[key]

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        field = self._field(key)
        pipe = self._redis.pipeline()
        pipe.hget(self.key(), field)
        pipe.hdel(self.key(), field)
        blob, _ = pipe.execute()
        if blob is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return self._open(blob, self._value_part(field))

    def popitem(self) -> tuple[Any, Any]:
        for key in self.keys():
            value = self.pop(key, _MISSING)
            if value is not _MISSING:
                return key, value
        raise KeyError("popitem(): dictionary is empty")

    def clear(self) -> None:
        self._redis.delete(self.key())

    def copy(self) -> dict[Any, Any]:
        return dict(self.items())

    _getvalue = copy

    def __eq__(self, other: object) -> bool:
        return self.copy() == (other.copy() if isinstance(other, DictProxy) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.copy())


class ListProxy(SharedObject):
    """A `list` in Redis, as `Manager().list()` gives."""

    kind = "list"

    def __init__(self, sequence: Iterable[Any] = (), **shared: Any) -> None:
        super().__init__(**shared)
        self.extend(sequence)

    def _all(self) -> list[Any]:
        return [self._open(blob, "item") for blob in self._redis.lrange(self.key(), 0, -1)]

    def _rewrite(self, change: Callable[[list[Any]], Any]) -> Any:
        """Apply `change` to the whole list atomically (retrying if someone else wrote)."""
        import redis

        while True:
            with self._redis.pipeline() as pipe:
                try:
                    pipe.watch(self.key())
                    items = [self._open(b, "item") for b in pipe.lrange(self.key(), 0, -1)]
                    result = change(items)
                    pipe.multi()
                    pipe.delete(self.key())
                    if items:
                        pipe.rpush(self.key(), *[self._seal(i, "item") for i in items])
                        self._touch(pipe, self.key())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def append(self, item: Any) -> None:
        self.extend([item])

    def extend(self, items: Iterable[Any]) -> None:
        blobs = [self._seal(i, "item") for i in items]
        if blobs:
            pipe = self._redis.pipeline()
            pipe.rpush(self.key(), *blobs)
            self._touch(pipe, self.key())
            pipe.execute()

    def __len__(self) -> int:
        return int(self._redis.llen(self.key()))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._all()[index]
        blob = self._redis.lindex(self.key(), index)
        if blob is None:
            raise IndexError("list index out of range")
        return self._open(blob, "item")

    def __setitem__(self, index: int | slice, value: Any) -> None:
        def change(items: list[Any]) -> None:
            items[index] = value

        self._rewrite(change)

    def __delitem__(self, index: int | slice) -> None:
        def change(items: list[Any]) -> None:
            del items[index]

        self._rewrite(change)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all())

    def __contains__(self, item: Any) -> bool:
        return item in self._all()

    def insert(self, index: int, item: Any) -> None:
        self._rewrite(lambda items: items.insert(index, item))

    def pop(self, index: int = -1) -> Any:
        return self._rewrite(lambda items: items.pop(index))

    def remove(self, item: Any) -> None:
        self._rewrite(lambda items: items.remove(item))

    def index(self, item: Any, *bounds: int) -> int:
        return self._all().index(item, *bounds)

    def count(self, item: Any) -> int:
        return self._all().count(item)

    def reverse(self) -> None:
        self._rewrite(lambda items: items.reverse())

    def sort(self, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._rewrite(lambda items: items.sort(key=key, reverse=reverse))

    def __iadd__(self, items: Iterable[Any]) -> ListProxy:
        self.extend(items)
        return self

    def copy(self) -> list[Any]:
        return self._all()

    _getvalue = copy

    def __eq__(self, other: object) -> bool:
        return self._all() == (other._all() if isinstance(other, ListProxy) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())

"""`Manager()`: the factory of shared objects, here all kept in Redis (it needs Redis).

There is no manager server process: the `SyncManager` hands out `dict`, `list`, `Value`,
`Array`, `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Queue`,
`JoinableQueue` and `Namespace` objects stored in the
configured Redis, which processes on any machine reach directly. `shutdown()` (or leaving
its `with` block) deletes what it made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wren.multiprocessing.arrays import Array
from wren.multiprocessing.proxies import DictProxy, ListProxy
from wren.multiprocessing.queues import JoinableQueue, Queue
from wren.multiprocessing.shared import SharedObject, client_address
from wren.multiprocessing.synchronize import BoundedSemaphore, Event, Lock, RLock, Semaphore
from wren.multiprocessing.values import Value


class Namespace(SharedObject):
    """`Manager().Namespace()`: attributes kept in a Redis hash."""

    kind = "namespace"

    def __init__(self, **attributes: Any) -> None:
        object.__setattr__(self, "_dict", DictProxy())
        SharedObject.__init__(self, _name=self._dict._name, _address=self._dict._address)
        for name, value in attributes.items():
            setattr(self, name, value)

    def _public_state(self) -> dict[str, Any]:
        return {"_dict": self._dict}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_signing_key"] = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.__dict__["_dict"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._dict[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._dict[name]
        except KeyError:
            raise AttributeError(name) from None


class SyncManager:
    """What `Manager()` returns: already started, usable as a context manager."""

    def __init__(self) -> None:
        client_address()  # fail now, with the config hint, when Redis is not configured
        self._made: list[SharedObject] = []
        self._running = True

    def _keep(self, obj: Any) -> Any:
        if not self._running:
            raise RuntimeError("this Manager was shut down")
        self._made.append(obj)
        return obj

    def start(self, initializer: Any = None, initargs: Iterable[Any] = ()) -> None:
        """Already started (there is no server process); runs `initializer` here."""
        if initializer is not None:
            initializer(*initargs)

    def connect(self) -> None:
        """Nothing to connect to: Redis is reached directly."""

    def shutdown(self) -> None:
        """Delete every object this manager made from Redis."""
        if not self._running:
            return
        self._running = False
        for obj in self._made:
            obj._delete()
        self._made.clear()

    def __enter__(self) -> SyncManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def dict(self, *args: Any, **kwargs: Any) -> DictProxy:
        return self._keep(DictProxy(*args, **kwargs))

    def list(self, sequence: Iterable[Any] = ()) -> ListProxy:
        return self._keep(ListProxy(sequence))

    def Value(self, typecode: Any, value: Any, lock: bool = True) -> Value:
        return self._keep(Value(typecode, value, lock=lock))

    def Lock(self) -> Lock:
        return self._keep(Lock())

    def RLock(self) -> RLock:
        return self._keep(RLock())

    def Semaphore(self, value: int = 1) -> Semaphore:
        return self._keep(Semaphore(value))

    def BoundedSemaphore(self, value: int = 1) -> BoundedSemaphore:
        return self._keep(BoundedSemaphore(value))

    def Array(self, typecode: Any, sequence: Any, lock: bool = True) -> Array:
        array = Array(typecode, sequence, lock=lock)
        self._keep(array._items)
        return array

    def Event(self) -> Event:
        return self._keep(Event())

    def Queue(self, maxsize: int = 0) -> Queue:
        return self._keep(Queue(maxsize))

    def JoinableQueue(self, maxsize: int = 0) -> JoinableQueue:
        return self._keep(JoinableQueue(maxsize))

    def Namespace(self, **attributes: Any) -> Namespace:
        return self._keep(Namespace(**attributes))


def Manager() -> SyncManager:
    """A started `SyncManager` whose objects live in the configured Redis."""
    return SyncManager()

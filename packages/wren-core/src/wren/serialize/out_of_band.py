"""Pickles whose big buffers travel beside them, through a local buffer store.

Inside `offloading(put)`, the serializer pickles with protocol 5 and hands every buffer of
at least `MIN_BYTES` (a big `bytes` or `bytearray` value, a NumPy array's data) to `put`,
which stores it (in shared memory, `wren.serialize.local_buffers`) and returns a
`BufferRef`. The pickle itself then only holds the rest and the references, and loads with
plain `pickle.loads`: its first call reads the buffers back (each checked to be the file
that was written) and unpickles the rest with them, so a reader needs no flag and no
store. Each big value is copied twice in all (into the store, out of it) instead of
through the pickle, the seal, storage and the unpickler; the small pickle is sealed or
sent inline as before, which authenticates the references.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import pickle
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from wren.context import in_worker
from wren.ports import capabilities
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.serialize.local_buffers import BufferRef, read_buffer

__all__ = ["MIN_BYTES", "Offloaded", "Put", "claim_shared", "current_put", "dumps_out_of_band",
           "join_buffers", "offloading", "shared_put"]

logger = logging.getLogger("wren")

#: Buffers smaller than this stay in the pickle.
MIN_BYTES = 1024 * 1024
#: Containers are searched this deep for big `bytes` values (the pickler never offers them).
_DEPTH = 4

Put = Callable[[memoryview, bool], BufferRef]
_put: contextvars.ContextVar[Put | None] = contextvars.ContextVar("wren_offload", default=None)


class Offloaded:
    """What an `offloading` block put beside its pickles: `bytes` in all."""

    def __init__(self) -> None:
        self.bytes = 0


@contextlib.contextmanager
def offloading(put: Put | None) -> Iterator[Offloaded]:
    """Pickles made in this block put their big buffers through `put` (None: no change)."""
    offloaded = Offloaded()
    counted: Put | None = None
    if put is not None:
        def counted(view: memoryview, writable: bool) -> BufferRef:
            offloaded.bytes += view.nbytes
            return put(view, writable)

    token = _put.set(counted)
    try:
        yield offloaded
    finally:
        _put.reset(token)


def current_put() -> Put | None:
    return _put.get()


def shared_put(storage: StorageBackend, bucket: str, job_key: str) -> Put | None:
    """A `Put` keeping buffers as objects of the job in the shared memory of `storage`
    (deleted with the job's other objects); None when `storage` has none, or when this is
    a worker and the job's client did not claim it."""
    if not storage.supports(capabilities.SHARED_MEMORY):
        return None
    prefix = f"{keys.job_prefix(job_key)}buffers/"
    # The client claims its jobs' shared memory; a worker uses it only where it sees that
    # claim (so never from a container or another machine, where the client cannot read).
    if not storage.share_prefix(bucket, prefix, claim=not in_worker()):
        return None

    def put(view: memoryview, writable: bool) -> BufferRef:
        ref: BufferRef = storage.put_shared(bucket, prefix + uuid.uuid4().hex, view, writable)
        return ref

    return put


def claim_shared(storage: StorageBackend, bucket: str, executor_id: str) -> None:
    """Claim the shared memory of an executor's jobs when the executor is created, where the
    first job's `shared_put` would (making the claim's directory and owner file cost that
    job ~0.2 ms). Workers claim nothing; a failure is left to the first job to report."""
    if in_worker() or not storage.supports(capabilities.SHARED_MEMORY):
        return
    try:
        storage.share_prefix(bucket, keys.executor_prefix(executor_id), claim=True)
    except Exception as exc:
        logger.debug("claiming shared memory for executor %s failed: %s", executor_id, exc)


def _same(buffer: Any) -> Any:
    """Rebuilds a big `bytes`/`bytearray` value: the buffer read back already is one."""
    return buffer


class _Big:
    """A big `bytes`/`bytearray` value, wrapped so the pickler offers its buffer."""

    __slots__ = ("value",)

    def __init__(self, value: bytes | bytearray) -> None:
        self.value = value

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return _same, (pickle.PickleBuffer(self.value),)


#: Types `_wrap` leaves as they are without looking inside.
_LEAVES = frozenset({int, float, complex, str, bool, type(None)})
#: The values `_wrap` wraps when big.
_BUFFERS = frozenset({bytes, bytearray})
#: A container of more items than this is searched only for big values of its own: looking
#: inside each of its items would cost more than the copies it could save.
_WIDE = 100


def _wrap(obj: Any, depth: int, memo: dict[int, Any]) -> Any:
    """`obj` with its big `bytes` values wrapped (containers copied only where changed;
    `memo` keeps an object shared in `obj` shared in the copy)."""
    kind = type(obj)
    if kind is bytes or kind is bytearray:
        return _Big(obj) if len(obj) >= MIN_BYTES else obj
    if depth == 0 or (kind is not list and kind is not tuple and kind is not dict):
        return obj
    kinds = set(map(type, obj.values() if kind is dict else obj))
    if _LEAVES.issuperset(kinds):
        return obj  # nothing inside to wrap (the arguments of most maps): no copy, no calls
    if len(obj) > _WIDE and kinds.isdisjoint(_BUFFERS):
        return obj  # a long list of containers (chunks of tuples, rows): not searched
    found = memo.get(id(obj))
    if found is not None:
        return found
    memo[id(obj)] = obj  # a container that holds itself keeps holding the original
    new: Any
    if kind is dict:
        new = {k: _wrap(v, depth - 1, memo) for k, v in obj.items()}
        changed = any(new[k] is not v for k, v in obj.items())
    else:
        items = [_wrap(item, depth - 1, memo) for item in obj]
        changed = any(a is not b for a, b in zip(items, obj))
        new = items if kind is list else tuple(items)
    memo[id(obj)] = new if changed else obj
    return memo[id(obj)]


def dumps_out_of_band(obj: Any, pickler: type[pickle.Pickler], put: Put,
                      protocol: int = 5) -> bytes:
    """`obj` pickled by `pickler` with its big buffers stored through `put`.

    Most values are small (the results of a chunk of calls, a few arguments): they are
    pickled once as they are, into a writer that gives up past `MIN_BYTES`, since no big
    `bytes` value can hide in a pickle smaller than that. Only a value that does not fit
    is pickled again with its big `bytes` values wrapped (`_wrap`, which must look inside
    every container: a tenth of a millisecond for a few thousand numbers)."""
    buffers: list[pickle.PickleBuffer] = []

    def keep(buffer: pickle.PickleBuffer) -> bool:
        if buffer.raw().nbytes < MIN_BYTES:
            return True  # in the pickle
        buffers.append(buffer)
        return False

    capped = _Capped(MIN_BYTES)
    try:
        pickler(capped, protocol=protocol, buffer_callback=keep).dump(obj)
        data = capped.value()
    except _TooBig:
        buffers.clear()
        out = io.BytesIO()
        pickler(out, protocol=protocol, buffer_callback=keep).dump(_wrap(obj, _DEPTH, {}))
        data = out.getvalue()
    if not buffers:
        return data
    refs = []
    for buffer in buffers:
        view = buffer.raw()
        refs.append(put(view, not view.readonly))
    return pickle.dumps(_Joined(data, refs), protocol=protocol)


class _TooBig(Exception):
    """A pickle outgrew its `_Capped` writer."""


class _Capped:
    """A pickler's output file that holds at most `limit` bytes (`_TooBig` past that). The
    pickler writes as it goes, a frame of about 64 KiB at a time and a big buffer on its
    own, so giving up costs little more than the limit's worth of pickling."""

    __slots__ = ("_left", "_parts")

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._parts: list[bytes] = []

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        self._left -= size
        if self._left < 0:
            raise _TooBig
        self._parts.append(bytes(data))
        return size

    def value(self) -> bytes:
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)


class _Joined:
    __slots__ = ("data", "refs")

    def __init__(self, data: bytes, refs: list[BufferRef]) -> None:
        self.data, self.refs = data, refs

    def __reduce__(self) -> tuple[Any, ...]:
        return join_buffers, (self.data, self.refs)


def join_buffers(data: bytes, refs: list[BufferRef]) -> Any:
    """Unpickle `data` with the buffers `refs` name, each checked before use."""
    return pickle.loads(data, buffers=[read_buffer(ref) for ref in refs])

"""The worker side of data processing: before a call whose `obj` argument is a `ChunkRef`,
swap in the `DataChunk` it names (reading through the worker's storage), and close the
chunk's stream when the call returns, so a task of thousands of chunks holds one open
stream at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wren.dataproc.chunk import DataChunk
from wren.dataproc.refs import ChunkRef
from wren.ports.storage import StorageBackend

Invoke = Callable[[Any, int], Any]


def with_chunks(invoke: Invoke, storage: StorageBackend | None) -> Invoke:
    """Wrap an invoker of `kwargs` payloads (a dict, or an `(args, kwargs)` pair)."""

    def call(payload: Any, index: int) -> Any:
        pair = type(payload) is tuple
        args, kwargs = payload if pair else ((), payload)
        ref = kwargs.get("obj") if isinstance(kwargs, dict) else None
        if not isinstance(ref, ChunkRef):
            return invoke(payload, index)
        with DataChunk(ref, storage) as chunk:
            kwargs = {**kwargs, "obj": chunk}
            return invoke((args, kwargs) if pair else kwargs, index)

    return call

"""The `Serializer` port: turn functions, arguments and results into bytes and back.

Workers use the serializer named in the task, so a vendor serializer must be installed in the
runtime as well as on the client. `dumps_segments` is the batch form the executor uses for a
job's arguments: one blob plus the end offset of each object, so a worker can read only its
calls' bytes by range and any segment loads on its own.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from wren.ports._port import Port


class Serializer(Port, abc.ABC):
    """Port for serialization, registered in the `wren.serializers` entry-point group."""

    @abc.abstractmethod
    def dumps(self, obj: Any) -> bytes:
        """Serialize any object, including functions and classes defined in `__main__`."""

    @abc.abstractmethod
    def loads(self, data: bytes | memoryview) -> Any:
        """Rebuild an object from `dumps` output."""

    def dumps_function(self, func: Callable[..., Any]) -> bytes:
        """Serialize a function (by value where it cannot be imported remotely)."""
        return self.dumps(func)

    def dumps_segments(self, objs: Iterable[Any]) -> tuple[bytes, list[int]]:
        """Serialize objects into one blob; return it and the end offset of each object."""
        blob = bytearray()
        ends: list[int] = []
        for obj in objs:
            blob += self.dumps(obj)
            ends.append(len(blob))
        return bytes(blob), ends

    def segment_pickler(self, buffer: IO[bytes]) -> Any | None:
        """Optional: an object whose `dump(obj)` appends one self-contained segment to
        `buffer` and whose `clear_memo()` is called after each, so a worker serializes a
        batch of results without per-object setup. None means use `dumps`."""
        return None

    def loads_segments(self, data: bytes | memoryview, sizes: Sequence[int]) -> list[Any]:
        """Load consecutive segments of the given sizes (the inverse of a segment batch)."""
        view = memoryview(data)
        out: list[Any] = []
        start = 0
        for size in sizes:
            out.append(self.loads(view[start:start + size]) if size else None)
            start += size
        return out

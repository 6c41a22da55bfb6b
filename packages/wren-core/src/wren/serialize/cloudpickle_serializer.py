"""The default serializer: cloudpickle for anything, protocol 5, one pickler per batch.

`dumps_segments` reuses one pickler for a whole batch of arguments and clears its memo
between objects, so every segment loads on its own while the per-object cost stays close to
the C pickler's (about 0.5 µs for a small dict instead of ~2 µs with a fresh pickler).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from typing import IO, Any, ClassVar

import cloudpickle

from wren.ports.serializer import Serializer

PROTOCOL = 5


class CloudpickleSerializer(Serializer):
    """Serializer backed by cloudpickle (functions, lambdas and `__main__` classes by value)."""

    name: ClassVar[str] = "cloudpickle"

    def dumps(self, obj: Any) -> bytes:
        return cloudpickle.dumps(obj, protocol=PROTOCOL)

    def loads(self, data: bytes | memoryview) -> Any:
        return pickle.loads(data)

    def dumps_segments(self, objs: Iterable[Any]) -> tuple[bytes, list[int]]:
        buffer = io.BytesIO()
        pickler = cloudpickle.Pickler(buffer, protocol=PROTOCOL)
        ends: list[int] = []
        for obj in objs:
            pickler.dump(obj)
            pickler.clear_memo()
            ends.append(buffer.tell())
        return buffer.getvalue(), ends

    def segment_pickler(self, buffer: IO[bytes]) -> Any:
        return cloudpickle.Pickler(buffer, protocol=PROTOCOL)

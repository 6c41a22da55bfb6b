"""Even splitting of one object into byte ranges, shared by wren's partitioners.

`chunk_size` cuts ranges of that many bytes (the last one shorter); `chunk_n` cuts the object
into that many ranges of nearly equal size (fewer when the object has fewer bytes); neither
gives one range over the whole object. An empty object always has one empty range, so every
object gets at least one call.
"""

from __future__ import annotations

import abc

from wren._errors import InvalidInputError
from wren.ports.partitioner import Partition, Partitioner


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


def split_ranges(size: int, chunk_size: int | None = None,
                 chunk_n: int | None = None) -> list[tuple[int, int]]:
    """Half-open `(start, end)` ranges covering `[0, size)`; `chunk_n` wins over `chunk_size`."""
    _positive("chunk_size", chunk_size)
    _positive("chunk_n", chunk_n)
    if size < 0:
        raise InvalidInputError(f"an object size cannot be negative, got {size}")
    if chunk_n is not None:
        n = max(1, min(chunk_n, size))
        return [(size * i // n, size * (i + 1) // n) for i in range(n)]
    if chunk_size is not None and size > 0:
        return [(start, min(start + chunk_size, size)) for start in range(0, size, chunk_size)]
    return [(0, size)]


class EvenSplitPartitioner(Partitioner, abc.ABC):
    """A partitioner whose `plan` is `split_ranges`; subclasses say how to `open` a part."""

    def plan(self, source: str, size: int, chunk_size: int | None = None,
             chunk_n: int | None = None) -> list[Partition]:
        ranges = split_ranges(size, chunk_size, chunk_n)
        total = len(ranges)
        return [Partition(source, part, total, start, end, size)
                for part, (start, end) in enumerate(ranges)]

"""The `Partitioner` port: split stored objects into chunks that workers read in parallel.

`plan` turns objects (with their sizes) into `Partition`s, each a byte range of one object;
`open` gives a worker a readable file over its partition, reading the object through a
`RangeOpener` (a function that opens a stream over any byte range of it, so a partitioner can
read past its partition's end without loading anything whole). A line-aware partitioner makes
`open` return whole lines only: the reader of a partition skips the partial line it starts
in (unless it starts the object) and reads past its end up to the next newline, so the
partitions' lines concatenated are exactly the object's lines, whatever their length.
A partitioner is built with keyword options (e.g. `newline=`) that a worker can rebuild it
from: `plugins.partitioner_class(name)(**options)`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import IO, Any

import attrs

from wren.ports._port import Port

#: Reads the half-open byte range [start, end) of the partition's object.
RangeReader = Callable[[int, int], bytes]
#: Opens a readable binary stream over the half-open byte range [start, end) of the
#: partition's object, clipped to the object like `StorageBackend.get_object_stream`.
RangeOpener = Callable[[int, int], IO[bytes]]


@attrs.frozen
class Partition:
    """One chunk of one object: the half-open byte range [start, end) of `size` bytes."""

    source: str
    part: int
    total_parts: int
    start: int
    end: int
    size: int

    @property
    def chunk_size(self) -> int:
        return self.end - self.start


class Partitioner(Port, abc.ABC):
    """Port for partitioning, registered in the `wren.partitioners` entry-point group."""

    @abc.abstractmethod
    def plan(self, source: str, size: int, chunk_size: int | None = None,
             chunk_n: int | None = None) -> list[Partition]:
        """Split one object of `size` bytes; neither option given means one partition."""

    @property
    def options(self) -> dict[str, Any]:
        """The keyword options this partitioner was built with (picklable values)."""
        return {}

    @abc.abstractmethod
    def open(self, partition: Partition, open_range: RangeOpener) -> IO[bytes]:
        """A readable binary file over the partition's data, read through `open_range`."""

    def plan_many(self, sources: Sequence[tuple[str, int]], chunk_size: int | None = None,
                  chunk_n: int | None = None) -> list[Partition]:
        """`plan` for several objects, in order."""
        return [p for source, size in sources for p in self.plan(source, size, chunk_size,
                                                                 chunk_n)]

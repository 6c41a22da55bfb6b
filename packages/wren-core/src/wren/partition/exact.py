"""The `bytes` partitioner: each chunk is exactly its byte range, cut anywhere (for binary
data, or text whose lines the function reassembles itself; `obj_newline=None`)."""

from __future__ import annotations

import io
from typing import IO, ClassVar

from wren.partition.planning import EvenSplitPartitioner
from wren.ports.partitioner import Partition, RangeOpener


class BytePartitioner(EvenSplitPartitioner):
    """Chunks are the planned byte ranges, read as they are."""

    name: ClassVar[str] = "bytes"

    def open(self, partition: Partition, open_range: RangeOpener) -> IO[bytes]:
        if partition.start >= partition.end:  # an empty object: nothing to ask the store for
            return io.BytesIO(b"")
        return open_range(partition.start, partition.end)

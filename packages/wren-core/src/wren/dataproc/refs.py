"""What a data-processing call carries in its payload: `DataObject` (one readable object
and its size) and `ChunkRef` (one partition of it, plus the partitioner that reads it).

Both are small frozen records: a 10,000-chunk map pickles to well under a megabyte, and the
worker rebuilds the partitioner from its entry-point name and options.
"""

from __future__ import annotations

from typing import Any

import attrs

from wren.ports.partitioner import Partition


@attrs.frozen
class DataObject:
    """One object a map reads: `kind` is `storage` (`backend`, `bucket`, `name` = key),
    `url` (`name` = URL; `ranges` False when the server ignores Range requests) or `path`
    (`name` = a local file's path)."""

    kind: str
    name: str
    size: int
    backend: str | None = None
    bucket: str | None = None
    ranges: bool = True

    @property
    def uri(self) -> str:
        if self.kind == "storage":
            return f"{self.backend}://{self.bucket}/{self.name}"
        return self.name


@attrs.frozen
class ChunkRef:
    """One chunk to process: the object, its partition, and how to read it."""

    source: DataObject
    partition: Partition
    partitioner: str
    options: dict[str, Any] = attrs.field(factory=dict, hash=False)

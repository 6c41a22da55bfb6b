"""`DataChunk`: what a function's `obj` parameter receives, and how a worker opens one.

The worker turns the call's `ChunkRef` into a `DataChunk` whose `data_stream` reads the
chunk through the partitioner named in the ref: storage objects through the worker's own
storage backend (ranged streams), URLs through `requests`, local files directly. The
stream is opened lazily and closed when the call returns.
"""

from __future__ import annotations

import functools
from typing import IO, Any

from wren import plugins
from wren._errors import StorageError
from wren.dataproc.http import url_opener
from wren.dataproc.refs import ChunkRef, DataObject
from wren.ports.partitioner import RangeOpener
from wren.ports.storage import StorageBackend
from wren.streams import open_file_range


def range_opener(source: DataObject, storage: StorageBackend | None) -> RangeOpener:
    """How to open byte ranges of `source` from inside a worker."""
    if source.kind == "url":
        return url_opener(source.name, source.ranges)
    if source.kind == "path":
        return functools.partial(open_file_range, source.name)
    if storage is None or (storage.name and storage.name != source.backend):
        have = "no storage" if storage is None else f"storage {storage.name!r}"
        raise StorageError(f"cannot read {source.uri}: this worker has {have}, not "
                           f"{source.backend!r}")
    bucket, key = source.bucket, source.name
    assert bucket is not None
    return lambda start, end: storage.get_object_stream(bucket, key, (start, end))


class DataChunk:
    """One chunk of one object: where it comes from (`backend`, `bucket` and `key` for
    storage, `url` or `path` otherwise; `uri` always; `size` of the whole object), which part
    it is (`part` of `total_parts`, the planned `data_byte_range` `(first, last)` with an
    inclusive end as in Lithops and HTTP ranges, and its `chunk_size`; with line alignment the stream starts at the first line that starts in the
    range and ends with the line that crosses its end), and its `data_stream`."""

    def __init__(self, ref: ChunkRef, storage: StorageBackend | None) -> None:
        self._ref, self._storage = ref, storage
        self._stream: IO[bytes] | None = None
        source, partition = ref.source, ref.partition
        self.backend, self.bucket = source.backend, source.bucket
        self.key = source.name if source.kind == "storage" else None
        self.url = source.name if source.kind == "url" else None
        self.path = source.name if source.kind == "path" else None
        self.uri, self.size = source.uri, source.size
        self.part, self.total_parts = partition.part, partition.total_parts
        # inclusive end, as Lithops gives it (an empty chunk: (start, start - 1))
        self.data_byte_range = (partition.start, partition.end - 1)
        self.chunk_size = partition.chunk_size

    # The data -----------------------------------------------------------------------------
    @property
    def data_stream(self) -> IO[bytes]:
        """A binary file over the chunk: `read`, `readline`, iteration over lines."""
        if self._stream is None:
            ref = self._ref
            partitioner = plugins.partitioner_class(ref.partitioner)(**ref.options)
            self._stream = partitioner.open(ref.partition,
                                            range_opener(ref.source, self._storage))
        return self._stream

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> DataChunk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        first, last = self.data_byte_range
        return (f"<DataChunk {self.uri} part {self.part + 1}/{self.total_parts} "
                f"bytes {first}-{last}>")

    def __reduce__(self) -> Any:  # a returned chunk travels as a reopenable reference
        return (DataChunk, (self._ref, None))

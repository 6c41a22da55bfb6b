"""`MemoryStorage`: a complete in-process `StorageBackend` for wren-core's unit tests.

It is a real implementation of the port (test_memory_storage.py runs the storage contract
on it), not a mock: dict of buckets, half-open clipped ranges, sorted listing. Unlike the
localhost backend it can hold a key ending in `/` (an S3 "directory marker"), which the
data-processing tests need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from wren import StorageNoSuchKeyError
from wren.ports import ObjectInfo, StorageBackend
from wren.ports.storage import Body


class MemoryStorage(StorageBackend):
    name: ClassVar[str] = "memory"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config or {"storage_bucket": "wren"})
        self.buckets: dict[str, dict[str, bytes]] = {}
        self.lock = threading.Lock()
        self.range_reads: list[tuple[str, tuple[int, int] | None]] = []

    def put_object(self, bucket: str, key: str, body: Body) -> None:
        data = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else body.read()
        with self.lock:
            self.buckets.setdefault(bucket, {})[key] = data

    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        with self.lock:
            self.range_reads.append((key, byte_range))
            try:
                data = self.buckets[bucket][key]
            except KeyError:
                raise StorageNoSuchKeyError(bucket, key) from None
        if byte_range is None:
            return data
        return data[byte_range[0]:max(byte_range)]

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        with self.lock:
            try:
                return ObjectInfo(key, len(self.buckets[bucket][key]))
            except KeyError:
                raise StorageNoSuchKeyError(bucket, key) from None

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        with self.lock:
            found = sorted((k, len(v)) for k, v in self.buckets.get(bucket, {}).items()
                           if k.startswith(prefix))
        return iter([ObjectInfo(k, size) for k, size in found])

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        with self.lock:
            objects = self.buckets.get(bucket, {})
            for key in keys:
                objects.pop(key, None)

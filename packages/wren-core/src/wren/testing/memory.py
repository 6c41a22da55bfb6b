"""`MemoryStorage`: an in-process `StorageBackend` for unit tests of code that needs storage.

It keeps objects in a dict guarded by a lock and passes the storage contract, so tests of
compute adapters, the worker or the client can run without any server. It is not registered
as an entry point: workers in other processes cannot reach it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from wren._errors import StorageNoSuchKeyError
from wren.config.schema import ConfigKey, ConfigSchema
from wren.ports import ObjectInfo, StorageBackend, capabilities
from wren.ports.storage import Body


class MemoryStorage(StorageBackend):
    """Objects in a dict, per bucket."""

    name: ClassVar[str] = "memory"
    capabilities = frozenset({capabilities.BYTE_RANGE})
    config_schema = ConfigSchema("memory", (
        ConfigKey("storage_bucket", str, "wren", "bucket for wren's own objects"),))

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__({"storage_bucket": "wren", **(config or {})})
        self._objects: dict[tuple[str, str], tuple[bytes, float]] = {}
        self._buckets = {str(self.config["storage_bucket"])}  # made by writes or create_bucket
        self._lock = threading.Lock()
        self.operations = 0

    def put_object(self, bucket: str, key: str, body: Body) -> None:
        data = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else body.read()
        with self._lock:
            self.operations += 1
            self._objects[(bucket, key)] = (data, time.time())
            self._buckets.add(bucket)

    def _get(self, bucket: str, key: str) -> tuple[bytes, float]:
        with self._lock:
            self.operations += 1
            found = self._objects.get((bucket, key))
        if found is None:
            raise StorageNoSuchKeyError(bucket, key)
        return found

    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        data, _ = self._get(bucket, key)
        return data if byte_range is None else data[byte_range[0]:max(*byte_range)]

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        data, modified = self._get(bucket, key)
        return ObjectInfo(key, len(data), modified)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            self.operations += 1
            found = sorted((k, d, m) for (b, k), (d, m) in self._objects.items()
                           if b == bucket and k.startswith(prefix))
        return iter([ObjectInfo(k, len(d), m) for k, d, m in found])

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        with self._lock:
            self.operations += 1
            for key in keys:
                self._objects.pop((bucket, key), None)

    def create_bucket(self, bucket: str) -> None:
        with self._lock:
            self._buckets.add(bucket)

    def bucket_exists(self, bucket: str) -> bool:
        with self._lock:
            return bucket in self._buckets

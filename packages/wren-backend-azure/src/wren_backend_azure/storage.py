"""`azure_storage`: wren's object store on Azure Blob Storage (one blob container per bucket).

Puts replace blobs atomically (a single put, or staged blocks committed at once); gets read a
half-open byte range with one ranged request, large objects in parallel chunks; streams read
chunk by chunk as the caller consumes them, never the whole object first; listing pages
through the service's results; deletes go out as blob batches of up to 256 keys. The
container named by `storage_bucket` is created on first use. A service that cannot be
reached, or keeps failing, is a `StorageError` naming the operation, object and endpoint.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, ClassVar

from wren import InvalidInputError, StorageError, StorageNoSuchKeyError
from wren.ports import ObjectInfo, StorageBackend, capabilities
from wren.ports.storage import Body
from wren.streams import ChunkRaw

from wren_backend_azure.clients import blob_service
from wren_backend_azure.config import STORAGE_SCHEMA
from wren_backend_azure.errors import public_endpoint, translated

_BATCH = 256
_PAGE = 5000
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


def _is_not_found(exc: Exception) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError)


def _is_invalid_range(exc: Exception) -> bool:
    return getattr(exc, "status_code", None) == 416


class AzureBlobStorage(StorageBackend):
    """Storage backend over Azure Blob Storage (or Azurite)."""

    name: ClassVar[str] = "azure_storage"
    capabilities = frozenset({capabilities.BYTE_RANGE, capabilities.STREAMING,
                              capabilities.MULTIPART_UPLOAD})
    config_schema = STORAGE_SCHEMA

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(STORAGE_SCHEMA.validate(config))
        self.service = blob_service(self.config)
        self.concurrency = self.config["max_concurrency"]
        self.endpoint = public_endpoint(self.service.url)
        self._checked: set[str] = set()

    def _failing(self, operation: str, bucket: str, key: str | None = None
                 ) -> contextlib.AbstractContextManager[None]:
        where = f"{bucket}/{key}" if key is not None else bucket
        return translated(operation, where, self.endpoint)

    # Names ------------------------------------------------------------------------------
    def _container(self, bucket: str) -> Any:
        if bucket not in self._checked:
            if not _CONTAINER_NAME.match(bucket or ""):
                raise InvalidInputError(
                    f"invalid bucket {bucket!r} for azure_storage: a blob container name is "
                    "3-63 lowercase letters, digits and single hyphens, starting and ending "
                    "with a letter or digit")
            self._checked.add(bucket)
        return self.service.get_container_client(bucket)

    # Writing ----------------------------------------------------------------------------
    def put_object(self, bucket: str, key: str, body: Body) -> None:
        data: Any = bytes(body) if isinstance(body, (bytearray, memoryview)) else body
        container = self._container(bucket)
        with self._failing("put", bucket, key):
            try:
                container.upload_blob(key, data, overwrite=True,
                                      max_concurrency=self.concurrency)
            except Exception as exc:
                if not (_is_not_found(exc) and bucket == self.config.get("storage_bucket")):
                    raise
                self.create_bucket(bucket)
                if hasattr(data, "seek"):
                    data.seek(0)
                container.upload_blob(key, data, overwrite=True,
                                      max_concurrency=self.concurrency)

    def create_bucket(self, bucket: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        with self._failing("create container", bucket), \
                contextlib.suppress(ResourceExistsError):
            self._container(bucket).create_container()

    def bucket_exists(self, bucket: str) -> bool:
        container = self._container(bucket)
        with self._failing("read container properties of", bucket):
            try:
                container.get_container_properties()
            except Exception as exc:
                if _is_not_found(exc):
                    return False
                raise
        return True

    def native_client(self) -> Any:
        """The `azure.storage.blob.BlobServiceClient`."""
        return self.service

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        container = self._container(bucket)
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == _BATCH:
                self._delete_batch(container, bucket, batch)
                batch = []
        if batch:
            self._delete_batch(container, bucket, batch)

    def _delete_batch(self, container: Any, bucket: str, keys: list[str]) -> None:
        with self._failing(f"delete {len(keys)} objects, e.g.", bucket, keys[0]):
            try:
                responses = list(container.delete_blobs(*keys, raise_on_any_failure=False))
            except Exception as exc:
                if _is_not_found(exc):  # the container itself is gone: nothing to delete
                    return
                raise
        failed = [(key, r.status_code) for key, r in zip(keys, responses, strict=True)
                  if r.status_code not in (200, 202, 404)]
        if failed:
            raise StorageError(f"could not delete {len(failed)} of {len(keys)} objects in "
                               f"bucket {bucket!r}, e.g. {failed[0][0]!r} (HTTP {failed[0][1]})")

    # Reading ----------------------------------------------------------------------------
    def _download(self, bucket: str, key: str, byte_range: tuple[int, int] | None,
                  concurrency: int) -> Any | None:
        """The SDK's downloader, or None when the range is empty (the object exists)."""
        container = self._container(bucket)
        offset = length = None
        if byte_range is not None:
            start, end = byte_range
            if end <= start:
                self.head_object(bucket, key)
                return None
            offset, length = start, end - start
        with self._failing("get", bucket, key):
            try:
                return container.download_blob(key, offset=offset, length=length,
                                               max_concurrency=concurrency)
            except Exception as exc:
                if _is_not_found(exc):
                    raise StorageNoSuchKeyError(bucket, key) from None
                if _is_invalid_range(exc):  # starts at or past the end: clipped to nothing
                    return None
                raise

    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        downloader = self._download(bucket, key, byte_range, self.concurrency)
        if downloader is None:
            return b""
        with self._failing("get", bucket, key):
            data: bytes = downloader.readall()
        return data

    def get_object_stream(self, bucket: str, key: str,
                          byte_range: tuple[int, int] | None = None) -> IO[bytes]:
        downloader = self._download(bucket, key, byte_range, 1)
        if downloader is None:
            return io.BytesIO(b"")
        return io.BufferedReader(ChunkRaw(downloader.chunks()), buffer_size=1 << 20)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        with self._failing("head", bucket, key):
            try:
                props = self._container(bucket).get_blob_client(key).get_blob_properties()
            except Exception as exc:
                if _is_not_found(exc):
                    raise StorageNoSuchKeyError(bucket, key) from None
                raise
        modified = props.last_modified.timestamp() if props.last_modified else None
        return ObjectInfo(key, int(props.size), modified, props.etag)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        pages = self._container(bucket).list_blobs(name_starts_with=prefix or None,
                                                   results_per_page=_PAGE)
        with self._failing("list", bucket, f"{prefix}*"):
            try:
                for blob in pages:
                    modified = blob.last_modified.timestamp() if blob.last_modified else None
                    yield ObjectInfo(blob.name, int(blob.size), modified, blob.etag)
            except Exception as exc:
                if not _is_not_found(exc):  # a missing container lists nothing
                    raise

    def close(self) -> None:
        self.service.close()

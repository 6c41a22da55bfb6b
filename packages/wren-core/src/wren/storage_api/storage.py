"""`Storage`: the storage client users and workers call, the same over every backend.

It wraps a `StorageBackend` adapter with the Lithops verbs: objects as bytes, str or
streams, byte ranges (also the `extra_get_args={'Range': ...}` form), listing with paging
done by the adapter, files, and `CloudObject`s. `Storage()` loads the configuration like
`FunctionExecutor` (files, then `config=`; `backend=` picks the storage backend); inside a
worker it wraps the worker's own storage, and a function's `storage` parameter receives one.
A missing key raises `wren.StorageNoSuchKeyError` naming bucket and key.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import formatdate
from pathlib import Path
from typing import IO, Any

from wren import plugins
from wren._errors import InvalidInputError
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.storage_api.cloudobject import CloudObject
from wren.storage_api.ranges import range_from_get_args

Body = bytes | bytearray | memoryview | str | IO[bytes]
_COPY_BLOCK = 1 << 20


def _worker_storage() -> StorageBackend | None:
    from wren.context import current_storage

    try:
        return current_storage()
    except RuntimeError:
        return None


def _anonymous_key() -> str:
    from wren.context import current_task

    job_key = getattr(current_task(), "job_key", None)
    name = uuid.uuid4().hex
    if job_key:
        return keys.job_cloudobjects_prefix(job_key) + name
    return keys.cloudobject_key(name)


class Storage:
    """A storage client: `Storage(config=None, backend=None)` or `Storage.from_backend(b)`."""

    def __init__(self, config: Mapping[str, Any] | None = None,
                 backend: str | None = None) -> None:
        found = _worker_storage() if config is None and backend is None else None
        if found is None:
            from wren.config.loader import load_config

            loaded = load_config(config, storage=backend)
            found = plugins.storage_backend_class(loaded.storage_backend)(loaded.storage)
        self._client: StorageBackend = found
        self.backend: str = found.name or type(found).__name__

    @classmethod
    def from_backend(cls, backend: StorageBackend) -> Storage:
        """A client over an already open storage backend (what workers inject)."""
        self = cls.__new__(cls)
        self._client = backend
        self.backend = backend.name or type(backend).__name__
        return self

    def __repr__(self) -> str:
        return f"Storage(backend={self.backend!r})"

    @property
    def bucket(self) -> str:
        """The configured bucket (`storage_bucket`), where wren keeps its own objects."""
        return self._client.default_bucket

    def get_client(self) -> StorageBackend:
        """The underlying `StorageBackend` adapter."""
        return self._client

    # Objects ------------------------------------------------------------------------------
    def put_object(self, bucket: str, key: str, body: Body) -> None:
        """Store `body` (bytes, str as UTF-8, or a readable binary file) under `key`."""
        self._client.put_object(bucket, key, body.encode() if isinstance(body, str) else body)

    def get_object(self, bucket: str, key: str, stream: bool = False,
                   byte_range: tuple[int, int] | None = None,
                   extra_get_args: Mapping[str, Any] | None = None) -> Any:
        """The object's bytes (or a readable binary file with `stream=True`); `byte_range`
        is half-open `(start, end)`, or give `extra_get_args={'Range': 'bytes=A-B'}`."""
        if extra_get_args:
            if byte_range is not None:
                raise InvalidInputError("give either byte_range or extra_get_args['Range'], "
                                        "not both")
            byte_range = range_from_get_args(
                extra_get_args, lambda: self._client.head_object(bucket, key).size)
        if stream:
            return self._client.get_object_stream(bucket, key, byte_range)
        return self._client.get_object(bucket, key, byte_range)

    def head_object(self, bucket: str, key: str) -> dict[str, str]:
        """The object's metadata as HTTP-style headers: `content-length`, and `etag` and
        `last-modified` where the backend knows them."""
        info = self._client.head_object(bucket, key)
        headers = {"content-length": str(info.size)}
        if info.etag is not None:
            headers["etag"] = info.etag
        if info.last_modified is not None:
            headers["last-modified"] = formatdate(info.last_modified, usegmt=True)
        return headers

    def list_objects(self, bucket: str, prefix: str | None = None) -> list[dict[str, Any]]:
        """Every object under `prefix` as `{'Key', 'Size', 'LastModified', 'ETag'}`."""
        return [{"Key": info.key, "Size": info.size, "ETag": info.etag,
                 "LastModified": None if info.last_modified is None else
                 datetime.fromtimestamp(info.last_modified, timezone.utc)}
                for info in self._client.list_objects(bucket, prefix or "")]

    def list_keys(self, bucket: str, prefix: str | None = None) -> list[str]:
        """Every key under `prefix`, in order."""
        return self._client.list_keys(bucket, prefix or "")

    def delete_object(self, bucket: str, key: str) -> None:
        self._client.delete_object(bucket, key)

    def delete_objects(self, bucket: str, key_list: Iterable[str]) -> None:
        """Delete many keys (batched by the backend); missing keys are not an error."""
        self._client.delete_objects(bucket, list(key_list))

    # Files --------------------------------------------------------------------------------
    def upload_file(self, file_name: str | os.PathLike[str], bucket: str,
                    key: str | None = None) -> bool:
        """Store a local file (streamed) under `key` (default: the file's name)."""
        path = Path(file_name)
        with open(path, "rb") as handle:
            self._client.put_object(bucket, key or path.name, handle)
        return True

    def download_file(self, bucket: str, key: str,
                      file_name: str | os.PathLike[str] | None = None) -> bool:
        """Write an object (streamed) to a local file (default: the key's last part)."""
        path = Path(file_name) if file_name is not None else Path(key.rsplit("/", 1)[-1])
        with self._client.get_object_stream(bucket, key) as stream:
            if path.parent != Path(""):
                path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                shutil.copyfileobj(stream, out, _COPY_BLOCK)
        return True

    # Cloud objects ------------------------------------------------------------------------
    def put_cloudobject(self, body: Body, bucket: str | None = None,
                        key: str | None = None) -> CloudObject:
        """Store `body` and return a picklable `CloudObject` handle to it. Without `key` it
        goes under `wren.cloudobjects/` in the configured bucket, kept until deleted; inside
        a call, under that call's job, so its executor's `clean()` deletes it too."""
        target = CloudObject(self.backend, bucket or self.bucket,
                             key or _anonymous_key())
        self.put_object(target.bucket, target.key, body)
        return target

    def _own(self, cloud_object: CloudObject) -> CloudObject:
        if not isinstance(cloud_object, CloudObject):
            raise InvalidInputError(f"expected a CloudObject, got {type(cloud_object).__name__}")
        if cloud_object.backend != self.backend:
            raise InvalidInputError(
                f"{cloud_object} lives in storage backend {cloud_object.backend!r}, but this "
                f"client uses {self.backend!r}; open Storage(backend={cloud_object.backend!r})")
        return cloud_object

    def get_cloudobject(self, cloud_object: CloudObject, stream: bool = False) -> Any:
        """The body of a `CloudObject` (bytes, or a readable file with `stream=True`)."""
        found = self._own(cloud_object)
        return self.get_object(found.bucket, found.key, stream=stream)

    def delete_cloudobject(self, cloud_object: CloudObject) -> None:
        found = self._own(cloud_object)
        self._client.delete_object(found.bucket, found.key)

    def delete_cloudobjects(self, cloud_objects: Iterable[CloudObject]) -> None:
        """Delete many `CloudObject`s, batched per bucket."""
        by_bucket: dict[str, list[str]] = {}
        for cloud_object in cloud_objects:
            found = self._own(cloud_object)
            by_bucket.setdefault(found.bucket, []).append(found.key)
        for bucket, names in by_bucket.items():
            self._client.delete_objects(bucket, names)

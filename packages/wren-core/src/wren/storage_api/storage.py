"""`Storage`: the storage client users and workers call, the same over every backend.

It wraps a `StorageBackend` adapter with Lithops' methods and keywords: objects as bytes,
str or streams, byte ranges (also the `extra_get_args={'Range': ...}` form), listing with
paging done by the adapter and Lithops' `match_pattern` globs, buckets, files, and
`CloudObject`s. `Storage()` loads the configuration like `FunctionExecutor` (files, then
`config=`; `backend=` picks the storage backend), `Storage(storage_config=...)` takes what
`get_storage_config()` returned; inside a worker `Storage()` wraps the worker's own storage,
and a function's `storage` parameter receives one. `get_client()` is the service's own client
(a boto3-style stand-in where there is none); `storage_handler` is the adapter.
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

from wren._errors import InvalidInputError
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.storage_api.boto_style import BotoStyleClient
from wren.storage_api.buckets import head_bucket
from wren.storage_api.cloudobject import CloudObject
from wren.storage_api.opening import open_backend
from wren.storage_api.patterns import key_matches
from wren.storage_api.ranges import range_from_get_args

Body = bytes | bytearray | memoryview | str | IO[bytes]
_COPY_BLOCK = 1 << 20


def _no_transfer_options(operation: str, extra_args: Mapping[str, Any] | None,
                         config: Any) -> None:
    """Lithops passes these on to boto3; wren's adapters size their own transfers."""
    if extra_args:
        raise InvalidInputError(f"{operation}(extra_args={dict(extra_args)!r}): wren stores "
                                "no object metadata or ACLs; remove extra_args")
    if config is not None:
        raise InvalidInputError(
            f"{operation}(config=...): wren's storage adapters size multipart transfers from "
            "their own config section (its multipart or concurrency keys); remove config=")


def _anonymous_key() -> str:
    from wren.context import current_task

    job_key = getattr(current_task(), "job_key", None)
    name = uuid.uuid4().hex
    if job_key:
        return keys.job_cloudobjects_prefix(job_key) + name
    return keys.cloudobject_key(name)


class Storage:
    """A storage client: `Storage(config=None, backend=None, storage_config=None)` or
    `Storage.from_backend(b)`."""

    def __init__(self, config: Mapping[str, Any] | None = None, backend: str | None = None,
                 storage_config: Mapping[str, Any] | None = None) -> None:
        found = open_backend(config, backend, storage_config)
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

    @property
    def storage_handler(self) -> StorageBackend:
        """The `StorageBackend` adapter this client calls (Lithops' attribute name)."""
        return self._client

    def get_client(self) -> Any:
        """The storage service's own client (e.g. the boto3 client of `ibm_cos`, the
        `BlobServiceClient` of `azure_storage`); for a backend without one, a stand-in that
        answers the common boto3 S3 calls (`BotoStyleClient`)."""
        return self._client.native_client() or BotoStyleClient(self._client)

    def get_storage_config(self) -> dict[str, Any]:
        """`{'backend': name, <section>: {...}}`: what `Storage(storage_config=...)` takes.
        It holds the backend's credentials; keep it out of task arguments."""
        section = self._client.config_schema.section
        return {"backend": self.backend, section: dict(self._client.config)}

    # Buckets ------------------------------------------------------------------------------
    def create_bucket(self, bucket: str) -> None:
        """Create `bucket` unless it exists (`NotSupportedError` on a backend without
        buckets to manage)."""
        self._client.create_bucket(bucket)

    def head_bucket(self, bucket: str) -> dict[str, Any]:
        """`{'ResponseMetadata': {'HTTPStatusCode': 200}}` when `bucket` exists; a missing
        bucket raises `wren.StorageNoSuchKeyError`."""
        return head_bucket(self._client, bucket)

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

    def list_objects(self, bucket: str, prefix: str | None = None,
                     match_pattern: str | None = None) -> list[dict[str, Any]]:
        """Every object under `prefix` as `{'Key', 'Size', 'LastModified', 'ETag'}`, in key
        order; `match_pattern` keeps the keys matching a glob (`*`, `?`, `**` parts)."""
        return [{"Key": info.key, "Size": info.size, "ETag": info.etag,
                 "LastModified": None if info.last_modified is None else
                 datetime.fromtimestamp(info.last_modified, timezone.utc)}
                for info in self._client.list_objects(bucket, prefix or "")
                if match_pattern is None or key_matches(match_pattern, info.key)]

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
                    key: str | None = None, extra_args: Mapping[str, Any] | None = None,
                    config: Any = None) -> bool:
        """Store a local file (streamed) under `key` (default: the file's name)."""
        _no_transfer_options("upload_file", extra_args, config)
        path = Path(file_name)
        with open(path, "rb") as handle:
            self._client.put_object(bucket, key or path.name, handle)
        return True

    def download_file(self, bucket: str, key: str,
                      file_name: str | os.PathLike[str] | None = None,
                      extra_args: Mapping[str, Any] | None = None, config: Any = None) -> bool:
        """Write an object (streamed) to a local file (default: the key's last part)."""
        _no_transfer_options("download_file", extra_args, config)
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

"""`ibm_cos` storage: IBM Cloud Object Storage, or any S3-compatible endpoint (Ceph, MinIO).

Built on `ibm_boto3`. Listing pages through `list_objects_v2` (1,000 keys a page); deletes go
in batches of at most 1,000 keys; ranged gets translate wren's half-open `(start, end)` into
an HTTP `Range`; `get_object_stream` reads from the socket as the caller reads; bodies of at
least `multipart_threshold` bytes are uploaded in parts (`wren_backend_ibmcf.multipart`).
Requests are retried with backoff by the SDK (`max_retries`), and errors name the bucket, the
key and the fix (`wren_backend_ibmcf.cos_client`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, ClassVar, TypeVar

from wren import StorageError
from wren.ports import ObjectInfo, StorageBackend, capabilities
from wren.ports.storage import Body
from wren.streams import unlimited

from wren_backend_ibmcf import multipart
from wren_backend_ibmcf.config import IBM_COS_SCHEMA
from wren_backend_ibmcf.cos_client import error_code, make_client, resolve_endpoint, translate

DELETE_BATCH = 1000
_STREAM_BUFFER = 1 << 16
T = TypeVar("T")


class IbmCosStorage(StorageBackend):
    """Storage backend over an S3 API (IBM COS, Ceph RGW, MinIO, AWS)."""

    name: ClassVar[str] = "ibm_cos"
    capabilities = frozenset({capabilities.BYTE_RANGE, capabilities.STREAMING,
                              capabilities.MULTIPART_UPLOAD})
    config_schema = IBM_COS_SCHEMA
    #: Lithops users write `cos://` and `s3://` for IBM COS (this client speaks plain S3).
    url_schemes: ClassVar[tuple[str, ...]] = ("cos", "s3")

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.endpoint = resolve_endpoint(self.config)
        self.client = make_client(self.config)
        self.multipart_threshold = int(self.config["multipart_threshold"])
        self.part_size = int(self.config["multipart_chunksize"])
        if self.config["check_credentials"] and self.config.get("storage_bucket"):
            self.check_credentials(str(self.config["storage_bucket"]))

    def check_credentials(self, bucket: str) -> None:
        """One cheap request that fails now, with a clear error, if the service rejects the
        credentials (a bucket that does not exist yet is not an error here)."""
        try:
            self.client.list_objects_v2(Bucket=bucket, MaxKeys=1)
        except Exception as exc:
            if error_code(exc) != "NoSuchBucket":
                raise translate(exc, "list", bucket, None, self.endpoint) from exc

    def _call(self, operation: str, bucket: str, key: str | None,
              call: Callable[[], T]) -> T:
        try:
            return call()
        except Exception as exc:
            raise translate(exc, operation, bucket, key, self.endpoint) from exc

    # Writing ------------------------------------------------------------------------------
    def put_object(self, bucket: str, key: str, body: Body) -> None:
        if isinstance(body, (bytes, bytearray, memoryview)):
            size = memoryview(body).nbytes
            if size < self.multipart_threshold:
                data = body if isinstance(body, bytes) else bytes(body)
                self._call("put", bucket, key, lambda: self.client.put_object(
                    Bucket=bucket, Key=key, Body=data))
                return
            parts = multipart.iter_parts(body, self.part_size)
        else:
            first = body.read(self.multipart_threshold)
            if len(first) < self.multipart_threshold:
                self._call("put", bucket, key, lambda: self.client.put_object(
                    Bucket=bucket, Key=key, Body=first))
                return
            parts = multipart.iter_parts(body, self.part_size, first)
        self._call("multipart upload of", bucket, key,
                   lambda: multipart.upload(self.client, bucket, key, parts))

    # Reading ------------------------------------------------------------------------------
    def _get(self, bucket: str, key: str, byte_range: tuple[int, int] | None) -> Any:
        """The SDK's response, or None for an empty range of an existing object."""
        extra: dict[str, str] = {}
        if byte_range is not None:
            start, end = byte_range
            if start < 0 or end < 0:
                raise ValueError(f"byte_range must not be negative, got {byte_range}")
            if end <= start:
                self.head_object(bucket, key)
                return None
            extra["Range"] = f"bytes={start}-{end - 1}"
        try:
            return self.client.get_object(Bucket=bucket, Key=key, **extra)
        except Exception as exc:
            if byte_range is not None and error_code(exc) == "InvalidRange":
                return None  # the range starts at or past the end: S3 answers 416
            raise translate(exc, "get", bucket, key, self.endpoint) from exc

    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        response = self._get(bucket, key, byte_range)
        if response is None:
            return b""
        body = response["Body"]
        try:
            return self._call("read", bucket, key, body.read)
        finally:
            body.close()

    def get_object_stream(self, bucket: str, key: str,
                          byte_range: tuple[int, int] | None = None) -> IO[bytes]:
        response = self._get(bucket, key, byte_range)
        if response is None:
            return io.BytesIO(b"")
        return io.BufferedReader(unlimited(response["Body"]), _STREAM_BUFFER)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        try:
            answer = self.client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("403", "400"):
                self._diagnose(bucket)  # a HEAD answer has no body to say why
            raise translate(exc, "head", bucket, key, self.endpoint) from exc
        modified = answer.get("LastModified")
        return ObjectInfo(key, int(answer["ContentLength"]),
                          modified.timestamp() if modified is not None else None,
                          str(answer.get("ETag", "")).strip('"') or None)

    def _diagnose(self, bucket: str) -> None:
        """Raise the precise error of a request that has a body, if it fails too."""
        self._call("list", bucket, None,
                   lambda: self.client.list_objects_v2(Bucket=bucket, MaxKeys=1))

    # Listing and deleting -----------------------------------------------------------------
    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call("list", bucket, None, functools.partial(
                self.client.list_objects_v2, Bucket=bucket, Prefix=prefix, MaxKeys=1000,
                **extra))
            for item in page.get("Contents", ()):
                modified = item.get("LastModified")
                yield ObjectInfo(item["Key"], int(item["Size"]),
                                 modified.timestamp() if modified is not None else None,
                                 str(item.get("ETag", "")).strip('"') or None)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == DELETE_BATCH:
                self._delete_batch(bucket, batch)
                batch = []
        if batch:
            self._delete_batch(bucket, batch)

    def _delete_batch(self, bucket: str, keys: list[str]) -> None:
        answer = self._call("delete", bucket, None, lambda: self.client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}))
        errors = [e for e in answer.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
        if errors:
            first = errors[0]
            raise StorageError(f"could not delete {len(errors)} of {len(keys)} objects in "
                               f"bucket {bucket!r}, e.g. {first.get('Key')!r}: "
                               f"{first.get('Code')}: {first.get('Message')}")

    # Buckets ------------------------------------------------------------------------------
    def create_bucket(self, bucket: str) -> None:
        try:
            self.client.create_bucket(Bucket=bucket)
        except Exception as exc:
            if error_code(exc) == "BucketAlreadyOwnedByYou":
                return
            raise translate(exc, "create bucket", bucket, None, self.endpoint) from exc

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.client.head_bucket(Bucket=bucket)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchBucket"):
                return False
            raise translate(exc, "head bucket", bucket, None, self.endpoint) from exc
        return True

    def native_client(self) -> Any:
        """The `ibm_boto3` S3 client."""
        return self.client

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

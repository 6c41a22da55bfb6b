"""`head_bucket`: Lithops' bucket check over any storage adapter, in the shape S3 answers.

A bucket that exists answers `{'ResponseMetadata': {'HTTPStatusCode': 200}}`, as Lithops'
backends do; a missing one raises `wren.StorageNoSuchKeyError` (the error Lithops raises)
with a message that names the bucket; an adapter that manages no buckets says so with
`wren.NotSupportedError`.
"""

from __future__ import annotations

from typing import Any

from wren._errors import StorageNoSuchKeyError
from wren.ports.storage import StorageBackend


def missing_bucket(bucket: str) -> StorageNoSuchKeyError:
    """The error for a bucket that does not exist (no key involved)."""
    error = StorageNoSuchKeyError(bucket, "")
    error.args = (f"no bucket {bucket!r} (or these credentials cannot reach it)",)
    return error


def head_bucket(backend: StorageBackend, bucket: str) -> dict[str, Any]:
    """`{'ResponseMetadata': {'HTTPStatusCode': 200}}` when `bucket` exists."""
    if not backend.bucket_exists(bucket):
        raise missing_bucket(bucket)
    return {"ResponseMetadata": {"HTTPStatusCode": 200}}

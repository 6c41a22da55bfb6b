"""`BotoStyleClient`: the few boto3 S3 calls scripts make on `Storage.get_client()`, over any
storage adapter that has no service client of its own (`localhost`, say).

Lithops hands out the service's client, and for its local storage a small look-alike, so
code such as `client.put_object(Bucket=b, Key=k, Body=data)` or
`client.get_object(Bucket=b, Key=k)['Body'].read()` runs on every backend. The same calls
work here, answering in boto3's shapes. An argument these calls cannot honour (ACLs,
metadata, conditions, ...) is refused by name rather than ignored.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from wren._errors import InvalidInputError
from wren.ports.storage import ObjectInfo, StorageBackend
from wren.storage_api.ranges import parse_range_header


def _no_extras(operation: str, extras: dict[str, Any]) -> None:
    if extras:
        raise InvalidInputError(f"{operation}: {', '.join(sorted(extras))} not supported by "
                                "this storage's client; use wren.Storage's methods or the "
                                "backend's own SDK")


def _entry(info: ObjectInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {"Key": info.key, "Size": info.size}
    if info.last_modified is not None:
        entry["LastModified"] = datetime.fromtimestamp(info.last_modified, timezone.utc)
    if info.etag is not None:
        entry["ETag"] = info.etag
    return entry


class BotoStyleClient:
    """boto3-shaped calls (`put_object`, `get_object`, `head_object`, `list_objects(_v2)`,
    `delete_object(s)`, `head_bucket`, `create_bucket`) over a `StorageBackend`."""

    def __init__(self, backend: StorageBackend) -> None:
        self.backend = backend

    def __repr__(self) -> str:
        return f"BotoStyleClient({self.backend.name!r})"

    def put_object(self, *, Bucket: str, Key: str, Body: Any = b"",
                   **extras: Any) -> dict[str, Any]:
        _no_extras("put_object", extras)
        self.backend.put_object(Bucket, Key, Body.encode() if isinstance(Body, str) else Body)
        return {}

    def get_object(self, *, Bucket: str, Key: str, Range: str | None = None,
                   **extras: Any) -> dict[str, Any]:
        _no_extras("get_object", extras)
        span = None if Range is None else parse_range_header(
            Range, lambda: self.backend.head_object(Bucket, Key).size)
        body = self.backend.get_object_stream(Bucket, Key, span)
        return {"Body": body}

    def head_object(self, *, Bucket: str, Key: str, **extras: Any) -> dict[str, Any]:
        _no_extras("head_object", extras)
        entry = _entry(self.backend.head_object(Bucket, Key))
        return {"ContentLength": entry.pop("Size"), **{k: v for k, v in entry.items()
                                                        if k != "Key"}}

    def list_objects_v2(self, *, Bucket: str, Prefix: str = "",
                        **extras: Any) -> dict[str, Any]:
        _no_extras("list_objects_v2", extras)
        contents = [_entry(info) for info in self.backend.list_objects(Bucket, Prefix or "")]
        answer: dict[str, Any] = {"Name": Bucket, "Prefix": Prefix or "", "IsTruncated": False,
                                  "KeyCount": len(contents)}
        if contents:
            answer["Contents"] = contents
        return answer

    def list_objects(self, *, Bucket: str, Prefix: str = "",
                     **extras: Any) -> dict[str, Any]:
        _no_extras("list_objects", extras)
        return self.list_objects_v2(Bucket=Bucket, Prefix=Prefix)

    def delete_object(self, *, Bucket: str, Key: str, **extras: Any) -> dict[str, Any]:
        _no_extras("delete_object", extras)
        self.backend.delete_object(Bucket, Key)
        return {}

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any],
                       **extras: Any) -> dict[str, Any]:
        _no_extras("delete_objects", extras)
        self.backend.delete_objects(Bucket, [item["Key"] for item in Delete.get("Objects", ())])
        return {}

    def head_bucket(self, *, Bucket: str, **extras: Any) -> dict[str, Any]:
        _no_extras("head_bucket", extras)
        from wren.storage_api.buckets import head_bucket

        return head_bucket(self.backend, Bucket)

    def create_bucket(self, *, Bucket: str, **extras: Any) -> dict[str, Any]:
        _no_extras("create_bucket", extras)
        self.backend.create_bucket(Bucket)
        return {}

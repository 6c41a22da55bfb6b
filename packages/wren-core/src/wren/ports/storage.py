"""The `StorageBackend` port: a flat object store of buckets and keys.

An adapter implements the five abstract methods; everything else has a working default that
adapters may override for speed, except the bucket operations (`create_bucket`,
`bucket_exists`), which an adapter offers when its service has buckets to manage. Semantics every adapter must keep (the storage contract in
`wren.testing.contract` checks them): keys are arbitrary strings with `/` as a conventional
separator; `byte_range=(start, end)` is half-open like a Python slice and clipped to the
object (a range starting at or past the end yields `b""`); a missing key raises
`wren.StorageNoSuchKeyError`; `put_object` replaces atomically, so a concurrent reader sees
the old or the new body, never a mix; listing pages internally and yields every key under
the prefix in lexicographic order; `delete_objects` ignores keys that do not exist.

`url_schemes` names the URL schemes the backend serves besides its own name: a map input
`'<scheme>://<bucket>/<key>'` goes to the installed storage backend that declares the scheme
(an S3-compatible adapter declares `s3`), and `'<name>://...'` always reaches the backend
registered as `<name>`.
"""

from __future__ import annotations

import abc
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, ClassVar

import attrs

from wren.config.schema import ConfigSchema
from wren.ports._port import Port

Body = bytes | bytearray | memoryview | IO[bytes]


@attrs.frozen
class ObjectInfo:
    """What listing and `head_object` tell about one object."""

    key: str
    size: int
    last_modified: float | None = None
    etag: str | None = None


class StorageBackend(Port, abc.ABC):
    """Port for object storage. Subclasses are registered in the `wren.storage_backends`
    entry-point group under the name users type in `storage=`."""

    config_schema: ClassVar[ConfigSchema] = ConfigSchema("storage", ())
    #: URL schemes (lower case, without `://`) this backend serves besides its own name.
    url_schemes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = self.config_schema.with_defaults(config)

    @property
    def default_bucket(self) -> str:
        """The bucket wren uses for its own objects (config key `storage_bucket`)."""
        bucket = self.config.get("storage_bucket")
        if not bucket:
            from wren._errors import ConfigError

            raise ConfigError(f"storage backend {self.name!r} has no bucket for wren's data: "
                              f"set `storage_bucket` in the {self.config_schema.section!r} "
                              "config section")
        return str(bucket)

    @abc.abstractmethod
    def put_object(self, bucket: str, key: str, body: Body) -> None:
        """Store `body` (bytes or a readable binary file) under `key`, replacing any object."""

    @abc.abstractmethod
    def get_object(self, bucket: str, key: str,
                   byte_range: tuple[int, int] | None = None) -> bytes:
        """Return the object's bytes, or the half-open `byte_range` of them."""

    @abc.abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """Return size and metadata of one object."""

    @abc.abstractmethod
    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`, in key order."""

    @abc.abstractmethod
    def delete_objects(self, bucket: str, keys: Iterable[str]) -> None:
        """Delete the keys (batched as the service allows); missing keys are not an error."""

    def get_object_stream(self, bucket: str, key: str,
                          byte_range: tuple[int, int] | None = None) -> IO[bytes]:
        """A readable binary file over the object; adapters with `streaming` read lazily."""
        return io.BytesIO(self.get_object(bucket, key, byte_range))

    def delete_object(self, bucket: str, key: str) -> None:
        self.delete_objects(bucket, [key])

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        return [info.key for info in self.list_objects(bucket, prefix)]

    def exists(self, bucket: str, key: str) -> bool:
        from wren._errors import StorageNoSuchKeyError

        try:
            self.head_object(bucket, key)
        except StorageNoSuchKeyError:
            return False
        return True

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket if the service allows it (optional); an existing bucket is
        not an error."""
        self.unsupported("create_bucket")

    def bucket_exists(self, bucket: str) -> bool:
        """True when the bucket exists and these credentials reach it (optional)."""
        self.unsupported("bucket_exists")

    def put_shared(self, bucket: str, key: str, data: memoryview,
                   writable: bool = False) -> Any:
        """Store `data` under `key` in this machine's shared memory and return the
        `wren.serialize.local_buffers.BufferRef` its readers check (adapters with the
        `shared_memory` capability; deleted and listed like any object of the bucket)."""
        self.unsupported("put_shared")

    def share_prefix(self, bucket: str, prefix: str, claim: bool) -> bool:
        """Shared memory under `prefix`: `claim` it for this process (the client, which
        reads what workers put there; swept once it is gone), or, without `claim`, whether
        a live process claimed it, so a worker that cannot see the client's shared memory
        (in a container, on another machine) keeps to plain objects."""
        return False

    def warm_up(self, bucket: str) -> None:
        """Optional: prepare what the first job will need of `bucket` that costs no request
        (local checks, directories), without raising: a failure is left for the first use
        to report. `FunctionExecutor` calls it once, when it is created."""

    def native_client(self) -> Any:
        """The service's own client (e.g. a boto3 client) for calls wren does not wrap;
        None when the adapter talks to no such client."""
        return None

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""

"""`CloudObject`: a small picklable handle to one object in storage.

`Storage.put_cloudobject` returns one; it can be returned by a map call, passed to another
map as input (its object becomes the call's `obj`), or read back with `get_cloudobject`.
It names the storage backend too, so an object handed to an executor on another storage is
refused with a clear error instead of being looked up in the wrong place.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class CloudObject:
    """Where an object lives: storage backend name, bucket and key."""

    backend: str
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        """The object as a map input string, `<backend>://<bucket>/<key>`."""
        return f"{self.backend}://{self.bucket}/{self.key}"

    def __str__(self) -> str:
        return self.uri

"""`MetadataTarget` and `await_metadata`: learning what a runtime offers from one run of it.

Batch platforms (Kubernetes Jobs, Code Engine job runs) have no request/response call an
adapter could ask a runtime's metadata with. Instead the adapter starts one container of the
image with `METADATA_ENV` set to a `MetadataTarget` (storage backend, its public settings,
bucket and key; never credentials), the container writes its `RuntimeInfo` there
(`wren.worker.array_task`), and `await_metadata` polls storage for it, asking the adapter's
`failure` callback on each round whether the run has already failed (an image that cannot be
pulled, a container that exits with an error) so that a broken image is reported at once with
the platform's reason rather than at the time limit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from wren._errors import RuntimeMismatchError
from wren.ports.compute import WorkerStorage
from wren.ports.storage import StorageBackend
from wren.protocol.runtime import RuntimeInfo

__all__ = ["METADATA_ENV", "MetadataTarget", "await_metadata"]

#: Set on a container that is to write its runtime's metadata instead of running a task.
METADATA_ENV = "WREN_METADATA_TARGET"


@attrs.frozen
class MetadataTarget:
    """Where a runtime writes its metadata: public storage settings and an object's name."""

    backend: str
    config: Mapping[str, Any]
    bucket: str
    key: str

    @classmethod
    def of(cls, where: WorkerStorage, bucket: str, key: str) -> MetadataTarget:
        return cls(where.backend, dict(where.public_config), bucket, key)

    def to_env(self) -> str:
        return json.dumps(attrs.asdict(self), default=str)

    @classmethod
    def from_env(cls, raw: str) -> MetadataTarget:
        return cls(**json.loads(raw))


def await_metadata(storage: StorageBackend, target: MetadataTarget, runtime: str, *,
                   timeout: float, failure: Callable[[], str | None], where: str,
                   interval: float = 0.5) -> RuntimeInfo:
    """The `RuntimeInfo` runtime `runtime` writes to `target`, once it is there (read as
    data and validated). `failure()` says why the run can no longer write it (None while it
    may); `where` names the run for the user (`Job ns/name`, `job run x`). Raises
    `RuntimeMismatchError` when the run failed or wrote nothing within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if storage.exists(target.bucket, target.key):
            return RuntimeInfo.decode(bytes(storage.get_object(target.bucket, target.key)),
                                      runtime)
        reason = failure()
        if reason is not None:
            raise RuntimeMismatchError(
                f"runtime {runtime!r} is not usable: {reason} ({where}). Fix the image or "
                "the registry login and deploy it again")
        if time.monotonic() > deadline:
            raise RuntimeMismatchError(
                f"runtime {runtime!r} wrote no metadata within {timeout:g} s ({where}): is it "
                "a wren runtime of this backend, and can the platform pull it? Build it with "
                "`wren runtime build`, or raise the backend's time limit for deploying")
        time.sleep(interval)

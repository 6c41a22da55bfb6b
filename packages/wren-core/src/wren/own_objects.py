"""Delete what this process's executors left in a storage bucket: their jobs' temporary data,
their calls' output and cloud objects, and the function blobs this process uploaded itself.

Closing an executor cleans only the jobs whose results were read through it; commands that
run jobs to check a backend (`wren hello`, `wren verify`) call `delete_own_objects` at the end
so the bucket is as they found it. Every executor of a process has an id that starts with the
process's random session id, so its prefixes name this process's jobs and no one else's;
function blobs are content-addressed and shared, so only those this process stored (none was
there before) are deleted.
"""

from __future__ import annotations

from wren.client.builder import STORED_HERE
from wren.executor import session_id
from wren.ports.storage import StorageBackend
from wren.protocol import keys


def delete_own_objects(storage: StorageBackend, bucket: str) -> int:
    """Delete this process's objects in `bucket` (call it once its executors are closed);
    return how many were deleted."""
    session = session_id()
    found: list[str] = []
    for prefix in (keys.JOBS_PREFIX, keys.LOGS_PREFIX, keys.CLOUDOBJECTS_PREFIX):
        found.extend(storage.list_keys(bucket, f"{prefix}{session}-"))
    stored = sorted(STORED_HERE)
    found.extend(key for key in stored if storage.exists(bucket, key))
    storage.delete_objects(bucket, found)
    STORED_HERE.difference_update(stored)
    return len(found)


__all__ = ["delete_own_objects"]

"""Status documents for calls that will never report, so every reader learns they failed.

The client's monitor writes one when a backend reports lost calls or a deadline passes; a
queue consumer writes one when a task was delivered too often without completing. Stored
under the job's status prefix like any worker's document, it completes the calls with an
error of kind `lost` (or `timeout`) that the client raises as `WorkerLostError` (or
`FunctionTimeoutError`), and a remote reducer waiting on the job sees it too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from wren.protocol import keys
from wren.protocol.status import StatusDocument, error_info


class _Writable(Protocol):
    """What `store_status` needs of a storage backend."""

    def put_object(self, bucket: str, key: str, body: bytes) -> None: ...


def lost_calls_document(job_key: str, call_indices: Sequence[int], reason: str,
                        kind: str = "lost", task_id: str | None = None,
                        host: str = "client") -> StatusDocument:
    """A document that fails `call_indices` with `reason`. Without `task_id` it gets a fresh
    name of its own; with one it takes the place of that task's (single) status document."""
    error = error_info("FunctionTimeoutError" if kind == "timeout" else "WorkerLostError",
                       reason, "", kind)
    now = time.time()
    document = StatusDocument(job_key, task_id or f"lost-{uuid.uuid4().hex[:8]}", 0, None,
                              {"start": now, "end": now, "host": host})
    for index in call_indices:
        document.add(index, now, now, dict(error))
    return document


def store_status(storage: _Writable, bucket: str, document: StatusDocument,
                 key: bytes) -> bytes:
    """Write `document`, sealed with the executor's `key`, where workers write theirs; return
    what was written."""
    encoded = document.seal(key)
    storage.put_object(bucket, keys.status_key(document.job_key, document.task_id,
                                               document.part), encoded)
    return encoded

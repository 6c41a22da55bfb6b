"""`wren.protocol`: every object that crosses the client/storage/worker boundary.

Tasks, call bindings, status documents, lost-call reports, runtime metadata and the storage
key layout live here, at the bottom of wren-core: the client (`wren.client`) and the worker
(`wren.worker`) both stand on this package and never import each other. Each object has one
encoder and one decoder and carries the protocol version, so a client and a runtime of
different wren versions fail with a message that names both. An adapter needs few of these:
`Invocation` (what it delivers: `to_dict()` is the wire form), `Task` (what it may read to
route or size a delivery), `StatusDocument` (`peek` counts a sealed document's calls without
the key), `RuntimeInfo` (what `runtime_info` answers) and, in a runtime that reports lost
calls through storage, `lost_calls_document` + `store_status`.
"""

from wren.protocol import keys
from wren.protocol.binding import CallBinding, CallMode
from wren.protocol.invocation import Invocation, open_sealed_task, sealed_task
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.result_ref import ResultRef
from wren.protocol.runtime import RuntimeInfo
from wren.protocol.signing import (
    KEY_BYTES,
    check_digest,
    derive_key,
    new_key,
    open_sealed,
    seal,
)
from wren.protocol.status import ERROR_KINDS, StatusDocument, error_info
from wren.protocol.task import JobKind, Task, TaskOptions
from wren.protocol.version import PROTOCOL_VERSION, MalformedDocumentError

__all__ = [
    "CallBinding",
    "CallMode",
    "ERROR_KINDS",
    "Invocation",
    "JobKind",
    "KEY_BYTES",
    "MalformedDocumentError",
    "PROTOCOL_VERSION",
    "ResultRef",
    "RuntimeInfo",
    "StatusDocument",
    "Task",
    "TaskOptions",
    "check_digest",
    "derive_key",
    "error_info",
    "keys",
    "lost_calls_document",
    "new_key",
    "open_sealed",
    "open_sealed_task",
    "seal",
    "sealed_task",
    "store_status",
]

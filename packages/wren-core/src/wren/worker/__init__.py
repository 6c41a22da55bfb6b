"""The worker: the same code runs every task on every platform.

`handle(payload)` is the entry every runtime calls, `run_task` runs one task's calls,
`runtime_metadata()` describes the runtime, and `wren.worker.pool` is the supervised process
pool runtimes run tasks in. Names load on first use (PEP 562), so a process that needs only
the pool or the metadata does not import the task runner.
"""

from typing import TYPE_CHECKING

from wren._lazy import lazy_exports

if TYPE_CHECKING:
    from wren.context import current_storage, current_task, in_worker
    from wren.worker.entry import handle
    from wren.worker.metadata import runtime_metadata
    from wren.worker.runner import run_task
    from wren.worker.storage_access import open_storage
    from wren.worker.timeouts import timeout_message

__all__ = ["current_storage", "current_task", "handle", "in_worker", "open_storage",
           "run_task", "runtime_metadata", "timeout_message"]

_LAZY = {"current_storage": "wren.context", "current_task": "wren.context",
         "handle": "wren.worker.entry", "in_worker": "wren.context",
         "open_storage": "wren.worker.storage_access", "run_task": "wren.worker.runner",
         "runtime_metadata": "wren.worker.metadata",
         "timeout_message": "wren.worker.timeouts"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

"""The runtime of compute `subprocess`: `python -m wren_backend_subprocess.runner`.

It reads one payload (JSON) from stdin and hands it to `wren.worker.handle`, the entry every
runtime shares, and writes handle's answer as one JSON line to stdout (`{"error": ...}` when
the payload is not one it runs). A task runs in a supervised `wren.worker.pool.WorkerPool`
of one worker process, on that process's main thread, so per-call timeouts work and a
worker that exits, is killed or ignores its timeout is reported on the call it was running
while the pool re-runs the calls of the task that never reported. Nobody listens here, so
`Reports` writes lost calls to storage as status documents the client's monitor reads like
any other. Storage credentials come from `WREN_STORAGE_CONFIG` in the environment.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from wren.protocol import Invocation, StatusDocument, lost_calls_document, store_status
from wren.worker import handle, open_storage
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.storage_access import private_config_from_env


class Reports:
    """An `InvocationListener` for one task: counts its calls as they report and stores the
    lost ones, sealed with the executor's key, where the client reads statuses."""

    def __init__(self, invocation: Invocation) -> None:
        self.task, self.key = invocation.task, invocation.key
        self.remaining = len(self.task.call_indices)
        self.done = threading.Event()
        self._lock = threading.Lock()
        if self.remaining == 0:
            self.done.set()

    def _reported(self, count: int) -> None:
        with self._lock:
            self.remaining -= count
            if self.remaining <= 0:
                self.done.set()

    def status_pushed(self, document: bytes) -> None:
        # The worker already stored this document; only count its calls.
        self._reported(len(StatusDocument.peek(document)))

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        task = self.task
        document = lost_calls_document(job_key, call_indices, reason, kind,
                                       host=f"subprocess-{os.getpid()}")
        storage = open_storage(task.storage_backend, task.storage_config)
        store_status(storage, task.bucket, document, self.key)
        self._reported(len(call_indices))


def run(payload: dict[str, Any], answer: Any) -> int:
    """Do what `payload` asks, writing the answer to the file `answer`; the exit status."""
    pool: WorkerPool | None = None
    reports: Reports | None = None

    def start(invocation: Invocation) -> None:
        nonlocal pool, reports
        reports = Reports(invocation)
        pool = WorkerPool()
        pool.ensure_size(1)
        profile = storage_profile(invocation.task.storage_backend, private_config_from_env())
        pool.submit([invocation], reports, profile, owner=0)

    try:
        result = handle(payload, runtime_name="subprocess", run=start)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    answer.write(json.dumps(result) + "\n")
    answer.close()
    if reports is None or pool is None:
        return 2 if "error" in result else 0
    task = reports.task
    # The client gives up on the task after about this long anyway (`lost_deadline`).
    reports.done.wait(task.timeout * max(1, len(task.call_indices)) + 30)
    pool.shutdown()
    return 0


def main() -> None:
    # The answer goes to the parent over the original stdout; anything else this process or
    # its workers print goes to stderr, so it never clogs the answer pipe.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    payload = json.loads(sys.stdin.buffer.read() or b"{}")
    sys.exit(run(payload, answer))


if __name__ == "__main__":
    main()

"""The runtime of compute `subprocess`: `python -m wren_backend_subprocess.runner`.

It reads one payload (JSON) from stdin and hands it to `wren.worker.handle`, the entry every
runtime shares, and writes handle's answer as one JSON line to stdout (`{"error": ...}` when
the payload is not one it runs). A task runs in a supervised `wren.worker.pool.WorkerPool`
of one worker process, on that process's main thread, so per-call timeouts work and a
worker that exits, is killed or ignores its timeout is reported on the call it was running
while the pool re-runs the calls of the task that never reported. Nobody listens here, so
core's `TaskReports` counts the task's calls and writes lost ones to storage as sealed status
documents the client's monitor reads like any other. Storage credentials come from
`WREN_STORAGE_CONFIG` in the environment.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from wren.protocol import Invocation
from wren.worker import handle
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports
from wren.worker.storage_access import private_config_from_env


def run(payload: dict[str, Any], answer: Any) -> int:
    """Do what `payload` asks, writing the answer to the file `answer`; the exit status."""
    pool: WorkerPool | None = None
    reports: TaskReports | None = None

    def start(invocation: Invocation) -> None:
        nonlocal pool, reports
        reports = TaskReports(invocation, f"subprocess-{os.getpid()}",
                              private=private_config_from_env())
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
    reports.wait(task.timeout * max(1, len(task.call_indices)) + 30)
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

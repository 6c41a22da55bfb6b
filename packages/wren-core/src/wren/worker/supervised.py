"""`run_supervised`: run one invocation in a runtime's own supervised pool, until a deadline.

A runtime that nobody listens to (a batch-job instance, an action) runs its task in a
`wren.worker.pool.WorkerPool` with a `TaskReports` listener: a call whose worker exits, is
killed, segfaults or ignores its timeout is written to storage as lost (sealed with the
invocation's key) and the rest of the task runs again. When the platform's own deadline is
near (`deadline` seconds), the runtime stops waiting, kills the workers still on the task and
fails the calls that did not report with `reason`, so the client learns why at once.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from wren.protocol.invocation import Invocation
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports

__all__ = ["run_supervised"]

#: Seconds the pool gets to report the calls of workers killed at the deadline.
CANCEL_WAIT = 2.0


def run_supervised(invocation: Invocation, private: Mapping[str, Any], pool: WorkerPool, *,
                   deadline: float | None, reason: str) -> TaskReports:
    """Run the task in `pool` with the storage secrets `private`; return once every call
    reported, or once `deadline` seconds passed (the calls still running are then killed and
    reported as timed out with `reason`)."""
    task = invocation.task
    reports = TaskReports(invocation, socket.gethostname(), private=private)
    if not reports.remaining:
        return reports
    owner = id(reports)
    pool.submit([invocation], reports, storage_profile(task.storage_backend, private), owner)
    if reports.wait(deadline):
        return reports
    pool.cancel(owner, reason, "timeout")
    reports.wait(CANCEL_WAIT)
    reports.abandon(reason, "timeout")
    return reports

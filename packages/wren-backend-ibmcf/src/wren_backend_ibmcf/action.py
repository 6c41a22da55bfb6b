"""The worker side of an `ibm_cf` / `openwhisk` action: `main(args)`, called by the action
proxy once per activation (`wren_backend_ibmcf/runtime/action_proxy.py`).

`args` is the invocation payload merged with the action's default parameters; the payload
goes to wren's worker entry, `wren.worker.handle` (a task to run, a fan-out request, or the
runtime's metadata). Credentials come only from the parameters bound when the runtime was
deployed: `wren_storage` (the storage backend's secrets) and, for the remote invoker,
`wren_compute`; a runtime may instead set `WREN_STORAGE_CONFIG`. They are taken out of
`args` before the payload is handled.

A task runs in wren's supervised pool (`wren.worker.pool`), kept warm in the action's
container across activations: `WREN_WORKER_PROCESSES` worker processes (default 1), started
on first use, each a fresh interpreter importing wren from the action's code. So a call that
exits its process, is killed by a signal or ignores its timeout is reported on that call at
once (a lost-calls status document sealed with the invocation's key, `TaskReports`) and the
rest of its task runs again. The activation returns once every call of the task has reported:
OpenWhisk freezes a container whose activation has ended. Before the activation's deadline
(`__OW_DEADLINE`) it stops waiting, kills the workers still on the task, and fails the calls
that did not report with a timeout.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wren.protocol.invocation import TASK_FIELD, Invocation
from wren.worker.entry import INFO_FIELD, PayloadError, handle
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports
from wren.worker.storage_access import private_config_from_env

__all__ = ["COMPUTE_PARAM", "INFO_FIELD", "STORAGE_PARAM", "TASK_FIELD", "main"]

STORAGE_PARAM = "wren_storage"
COMPUTE_PARAM = "wren_compute"
#: Seconds before the activation's deadline at which it stops waiting for its calls.
DEADLINE_MARGIN = 5.0
#: Seconds the pool gets to report the calls of workers killed at the deadline.
_CANCEL_WAIT = 2.0

_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def _private(args: Mapping[str, Any], param: str) -> dict[str, Any]:
    """The secrets bound to `param` at deploy; else the environment's (storage only)."""
    bound = args.get(param)
    if isinstance(bound, Mapping):
        return dict(bound.get("config") or {})
    return private_config_from_env() if param == STORAGE_PARAM else {}


def _deadline_seconds() -> float | None:
    deadline = os.environ.get("__OW_DEADLINE")  # milliseconds since the epoch
    if not deadline:
        return None
    return max(1.0, float(deadline) / 1000 - time.time() - DEADLINE_MARGIN)


def _processes() -> int:
    return max(1, int(os.environ.get("WREN_WORKER_PROCESSES") or 1))


def worker_pool() -> WorkerPool:
    """This container's pool, started by the first task it runs."""
    global _pool
    with _pool_lock:
        if _pool is None:
            import wren

            # Workers are fresh interpreters: they import wren from the action's code too.
            code = str(Path(wren.__file__).resolve().parents[1])
            paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            if code not in paths:
                os.environ["PYTHONPATH"] = os.pathsep.join([code, *paths])
            _pool = WorkerPool()
            _pool.ensure_size(_processes())
            atexit.register(_pool.shutdown)
        return _pool


def run_supervised(invocation: Invocation, private: Mapping[str, Any]) -> TaskReports:
    """Run the task in the pool; return once every call reported or the deadline is near."""
    task = invocation.task
    reports = TaskReports(invocation, socket.gethostname(), private=private)
    if not reports.remaining:
        return reports
    pool, owner = worker_pool(), id(reports)
    pool.submit([invocation], reports, storage_profile(task.storage_backend, private), owner)
    if reports.wait(_deadline_seconds()):
        return reports
    reason = ("the action's activation reached its time limit before the call reported, so "
              "its worker process was stopped")
    pool.cancel(owner, reason, "timeout")
    reports.wait(_CANCEL_WAIT)
    reports.abandon(reason, "timeout")
    return reports


def main(args: dict[str, Any]) -> dict[str, Any]:
    """Run what the payload asks for; the returned dict is the activation's result."""
    payload = {k: v for k, v in args.items() if k not in (STORAGE_PARAM, COMPUTE_PARAM)}
    storage = _private(args, STORAGE_PARAM)
    ran: list[TaskReports] = []
    try:
        answer = handle(payload, storage_config=storage,
                        compute_config=_private(args, COMPUTE_PARAM),
                        deadline=_deadline_seconds(), worker_processes=_processes(),
                        run=lambda invocation: ran.append(run_supervised(invocation, storage)))
    except PayloadError as exc:
        if TASK_FIELD in payload:  # a task this runtime cannot run fails its activation
            raise
        return {"error": str(exc)}
    for reports in ran:
        task = reports.task
        return {"job_key": task.job_key, "task_id": task.task_id,
                "calls": len(task.call_indices), "lost": reports.lost}
    return answer

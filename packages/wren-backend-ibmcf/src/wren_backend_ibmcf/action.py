"""The worker side of an `ibm_cf` / `openwhisk` action: `main(args)`, called by the action
proxy once per activation (runtimes/ibmcf).

`args` is the invocation payload merged with the action's default parameters. The payload
holds one of `wren_task` (a task to run), `wren_fanout` (tasks to invoke from here, see
`wren.worker.fanout`) or `wren_runtime_info`. Credentials come only from the parameters bound
when the runtime was deployed: `wren_storage` (the storage backend's secrets) and, for the
remote invoker, `wren_compute`; a runtime may instead set `WREN_STORAGE_CONFIG`.
"""

from __future__ import annotations

import os
import pkgutil
import platform
import sys
import time
from collections.abc import Mapping
from typing import Any

from wren.__about__ import __version__
from wren.protocol.task import Task
from wren.worker import open_storage, run_task
from wren.worker.fanout import FANOUT_FIELD, FanoutRequest, run_fanout
from wren.worker.storage_access import private_config_from_env

TASK_FIELD = "wren_task"
INFO_FIELD = "wren_runtime_info"
STORAGE_PARAM = "wren_storage"
COMPUTE_PARAM = "wren_compute"


def _private(args: Mapping[str, Any], param: str) -> dict[str, Any]:
    bound = args.get(param)
    if isinstance(bound, Mapping):
        return dict(bound.get("config") or {})
    return private_config_from_env() if param == STORAGE_PARAM else {}


def runtime_metadata() -> dict[str, Any]:
    """Python and wren versions of this runtime, and every top-level module it can import."""
    modules = {m.name for m in pkgutil.iter_modules() if not m.name.startswith("_")}
    modules.update(sys.builtin_module_names)
    return {"python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "python_full_version": platform.python_version(), "wren_version": __version__,
            "preinstalled_modules": sorted(modules)}


def _deadline_seconds() -> float | None:
    deadline = os.environ.get("__OW_DEADLINE")  # milliseconds since the epoch
    if not deadline:
        return None
    return max(1.0, float(deadline) / 1000 - time.time() - 5)


def main(args: dict[str, Any]) -> dict[str, Any]:
    """Run what the payload asks for; the returned dict is the activation's result."""
    os.environ.setdefault("WREN_WORKER", "1")
    if args.get(INFO_FIELD):
        return runtime_metadata()
    if FANOUT_FIELD in args:
        request = FanoutRequest.from_dict(args[FANOUT_FIELD])
        delivered = run_fanout(request, _private(args, STORAGE_PARAM),
                               _private(args, COMPUTE_PARAM), _deadline_seconds())
        return {"job_key": request.job_key, "tasks": request.count, "invoked": delivered}
    if TASK_FIELD not in args:
        return {"error": f"the payload has none of {TASK_FIELD!r}, {FANOUT_FIELD!r}, "
                         f"{INFO_FIELD!r}: this action runs wren tasks only"}
    task = Task.from_dict(args[TASK_FIELD])
    storage = open_storage(task.storage_backend, task.storage_config,
                           _private(args, STORAGE_PARAM))
    run_task(task, storage)
    return {"job_key": task.job_key, "task_id": task.task_id,
            "calls": len(task.call_indices)}

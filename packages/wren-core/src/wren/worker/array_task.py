"""`main`: what a container of a batch platform's array job runs (Kubernetes, Code Engine).

Such a platform starts one container of the runtime image per task and gives it its array
index in an environment variable of the platform's own (`JOB_COMPLETION_INDEX`, `JOB_INDEX`).
The client staged the job's sealed task list in storage (`wren.worker.fanout.stage_fanout`)
and passes its public description in `TASKS_ENV`; the executor key arrives in `KEY_ENV` and the
storage credentials in `WREN_STORAGE_CONFIG`, both from a platform secret. The container reads
the staged tasks (authenticated with the key), runs the one at its index in a supervised pool
(`wren.worker.supervised`: a call that crashes its worker is reported alone) and, before the
platform's time limit (`DEADLINE_ENV`, seconds), fails the calls still running with a timeout
that says so. It exits 0 once every call reported. With `METADATA_ENV` set it writes the
runtime's metadata there instead (`wren.ports.runtime_probe`).
"""

from __future__ import annotations

import json
import os
import time

from wren.ports.runtime_probe import METADATA_ENV, MetadataTarget
from wren.worker.fanout import FanoutRequest, staged_invocations
from wren.worker.metadata import runtime_metadata
from wren.worker.pool import WorkerPool
from wren.worker.storage_access import STORAGE_CONFIG_ENV, open_storage, private_config_from_env
from wren.worker.supervised import run_supervised

__all__ = ["DEADLINE_ENV", "KEY_ENV", "PROCESSES_ENV", "TASKS_ENV", "main", "write_metadata"]

#: The job's public description (a `FanoutRequest` without its key), JSON.
TASKS_ENV = "WREN_TASKS"
#: The executor key (base64), from a platform secret.
KEY_ENV = "WREN_KEY"
#: The platform's time limit of one container, in seconds (unset: none).
DEADLINE_ENV = "WREN_DEADLINE"
#: Worker processes of the supervised pool (1 unless set).
PROCESSES_ENV = "WREN_WORKER_PROCESSES"
#: Seconds before the time limit at which the container stops waiting for its calls.
DEADLINE_MARGIN = 5.0


def write_metadata(target: MetadataTarget, runtime_name: str, platform: str) -> None:
    """Write this runtime's metadata to `target`."""
    storage = open_storage(target.backend, target.config, private_config_from_env())
    info = runtime_metadata(runtime_name, platform=platform)
    storage.put_object(target.bucket, target.key, info.encode())


def main(index_env: str, platform: str, *, runtime_name: str = "",
         deadline_reason: str = "the platform's time limit was near") -> int:
    """Run the task whose number is in `index_env` (or write metadata); the exit status."""
    started = time.monotonic()
    os.environ.setdefault("WREN_WORKER", "1")
    if os.environ.get(METADATA_ENV):
        write_metadata(MetadataTarget.from_env(os.environ[METADATA_ENV]), runtime_name,
                       platform)
        return 0
    request = FanoutRequest.from_dict({**json.loads(os.environ[TASKS_ENV]),
                                       "executor_key": os.environ.pop(KEY_ENV)})
    private = private_config_from_env()
    os.environ.pop(STORAGE_CONFIG_ENV, None)  # the calls' own code need not see it
    storage = open_storage(request.storage_backend, request.storage_config, private)
    invocation = staged_invocations(request, storage)[int(os.environ[index_env])]
    limit = float(os.environ.get(DEADLINE_ENV) or 0) or None
    deadline = None if limit is None else max(
        1.0, limit - DEADLINE_MARGIN - (time.monotonic() - started))
    pool = WorkerPool()
    try:
        pool.ensure_size(max(1, int(os.environ.get(PROCESSES_ENV) or 1)))
        reports = run_supervised(invocation, private, pool, deadline=deadline,
                                 reason=deadline_reason)
    finally:
        pool.shutdown()
    return 0 if reports.done else 1

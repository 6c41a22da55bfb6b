"""The worker side of `code_engine`: what one instance of a job run does (the image's command).

Code Engine starts one container per array index and sets `JOB_INDEX`. The job run's
environment says where the job's tasks are (`WREN_TASKS`: a `FanoutRequest` without its key)
and gives the executor's key (`WREN_KEY`, from a project secret); the job definition gives
the storage settings (`WREN_STORAGE_CONFIG`, from another secret). The instance reads the
staged tasks (authenticated with the key, `wren.worker.fanout.staged_invocations`) and runs
task number `JOB_INDEX` in a supervised pool (`wren.worker.supervised`), so a call that
crashes its worker is reported at once; before the job's time limit (`WREN_DEADLINE`) it
fails the calls still running with a timeout. With `WREN_METADATA_KEY` (`bucket/key`) it
writes the runtime's metadata there instead. The exit status is 0 once every call reported.
"""

from __future__ import annotations

import json
import os
import sys
import time

from wren.worker.entry import INFO_FIELD, handle
from wren.worker.fanout import FanoutRequest, staged_invocations
from wren.worker.pool import WorkerPool
from wren.worker.storage_access import STORAGE_CONFIG_ENV, open_storage, private_config_from_env
from wren.worker.supervised import run_supervised

from wren_backend_ibmcf.code_engine.runtimes import (
    DEADLINE_ENV,
    KEY_ENV,
    METADATA_ENV,
    TASKS_ENV,
)

#: Seconds before the job's time limit at which the instance stops waiting for its calls.
DEADLINE_MARGIN = 5.0


def _write_metadata(where: str) -> None:
    """Write this runtime's metadata where the client's metadata job run asks."""
    target = json.loads(where)
    info = handle({INFO_FIELD: True}, runtime_name=os.environ.get("CE_JOB", ""),
                  platform="code_engine")
    storage = open_storage(target["backend"], target["config"], private_config_from_env())
    storage.put_object(target["bucket"], target["key"], json.dumps(info).encode())


def main() -> int:
    started = time.monotonic()
    if os.environ.get(METADATA_ENV):
        _write_metadata(os.environ[METADATA_ENV])
        return 0
    request = FanoutRequest.from_dict({**json.loads(os.environ[TASKS_ENV]),
                                       "executor_key": os.environ.pop(KEY_ENV)})
    private = private_config_from_env()
    os.environ.pop(STORAGE_CONFIG_ENV, None)  # the calls' own code need not see it
    storage = open_storage(request.storage_backend, request.storage_config, private)
    invocation = staged_invocations(request, storage)[int(os.environ["JOB_INDEX"])]
    limit = float(os.environ.get(DEADLINE_ENV) or 0) or None
    deadline = None if limit is None else max(1.0, limit - DEADLINE_MARGIN
                                               - (time.monotonic() - started))
    pool = WorkerPool()
    pool.ensure_size(max(1, int(os.environ.get("WREN_WORKER_PROCESSES") or 1)))
    try:
        reports = run_supervised(invocation, private, pool, deadline=deadline, reason=(
            "the Code Engine job run reached its time limit (`runtime_timeout`) before the "
            "call reported, so its worker process was stopped"))
    finally:
        pool.shutdown()
    return 0 if reports.done else 1


if __name__ == "__main__":
    sys.exit(main())

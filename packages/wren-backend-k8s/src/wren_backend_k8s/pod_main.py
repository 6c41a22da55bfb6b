"""The worker side of a `k8s` Job: what each pod of wren's runtime image runs.

A task pod reads its job's public description (`WREN_JOB`), the executor key
(`WREN_EXECUTOR_KEY`) and the storage credentials (`WREN_STORAGE_CONFIG`), both from the
job's Secret, reads the job's sealed task list from storage (`wren.worker.fanout.staged_invocations`,
authenticated with the key) and runs task number `JOB_COMPLETION_INDEX` in wren's supervised
pool (`WREN_WORKER_PROCESSES` processes): a call that crashes its worker is reported on that
call and the rest of the task runs. The pod exits 0 once every call reported. A validation
pod (`WREN_METADATA_OBJECT`: storage backend, bucket and key) writes the runtime's metadata there and exits.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from wren.worker.fanout import FanoutRequest, staged_invocations
from wren.worker.metadata import runtime_metadata
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports
from wren.worker.storage_access import open_storage, private_config_from_env

from wren_backend_k8s.manifest import JOB_ENV, KEY_ENV, METADATA_ENV


def write_metadata(where: str) -> None:
    """Write this runtime's metadata to `where` (JSON: storage backend, bucket, key)."""
    backend, bucket, key = json.loads(where)
    info = runtime_metadata(os.environ.get("WREN_RUNTIME_NAME", ""), platform="k8s")
    open_storage(backend, {}, private_config_from_env()).put_object(bucket, key, info.encode())


def run_task(index: int) -> int:
    """Run the task at `index` of the staged job; return how many of its calls were lost."""
    os.environ.setdefault("WREN_WORKER", "1")
    public = json.loads(os.environ[JOB_ENV])
    request = FanoutRequest.from_dict({**public, "executor_key": os.environ[KEY_ENV]})
    private = private_config_from_env()
    storage = open_storage(request.storage_backend, request.storage_config, private)
    invocation = staged_invocations(request, storage)[index]
    reports = TaskReports(invocation, socket.gethostname(), storage=storage)
    if reports.remaining:
        pool = WorkerPool()
        try:
            pool.ensure_size(max(1, int(os.environ.get("WREN_WORKER_PROCESSES") or 1)))
            pool.submit([invocation], reports, storage_profile(request.storage_backend,
                                                               private), id(reports))
            reports.wait()
        finally:
            pool.shutdown()
    return reports.lost


def main() -> int:
    where = os.environ.get(METADATA_ENV)
    if where:
        write_metadata(where)
        return 0
    run_task(int(os.environ["JOB_COMPLETION_INDEX"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How the localhost backend groups a job's calls into tasks: one task per job, as big as
its pool can still cut, since the pool shares a task out among its workers itself
(`wren.worker.pool.pacing`)."""

from __future__ import annotations

from pathlib import Path

from wren.ports import WorkerStorage
from wren.worker.pool.pacing import SLICE_MAX_BYTES
from wren_backend_local import LocalhostCompute


def test_a_job_is_one_task_no_bigger_than_the_pool_cuts(tmp_path: Path) -> None:
    config = {"storage_dir": str(tmp_path), "shared_memory": False}
    compute = LocalhostCompute({"worker_processes": 4}, WorkerStorage("localhost", config, {}))
    assert [compute.plan_chunksize(n) for n in (1, 100, 10_000)] == [1, 100, 10_000]
    assert compute.task_bytes == SLICE_MAX_BYTES

"""`localhost` compute: calls run in the process-wide warm worker pool on this machine.

The adapter pushes every status document straight to the client (no storage polling) and
supervises its calls: a worker that exits, is killed, crashes or overruns its timeout is
reported on the call it was running, with the exit code or signal named.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wren import NotSupportedError
from wren.__about__ import __version__ as wren_version
from wren.job.task import Task
from wren.ports import ComputeBackend, InvocationListener, RuntimeInfo, WorkerStorage
from wren.ports import capabilities as caps

from wren_backend_local.config import COMPUTE_SCHEMA
from wren_backend_local.pool import get_pool


class LocalhostCompute(ComputeBackend):
    """Compute backend over the local warm worker pool."""

    name: ClassVar[str] = "localhost"
    capabilities = frozenset({caps.PUSH_STATUS, caps.SUPERVISES_CALLS,
                              caps.SHARED_FILESYSTEM})
    config_schema = COMPUTE_SCHEMA
    tasks_per_worker: ClassVar[int] = 4
    max_payload_bytes: ClassVar[int] = 64 * 1024 * 1024

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        runtime = self.config.get("runtime")
        if runtime:
            raise NotSupportedError(
                f"runtime {runtime!r}", self.name,
                "localhost runs calls with this Python interpreter; remove `runtime` from the "
                "`localhost` config section")
        self.processes = int(self.config.get("worker_processes")
                             or self.config.get("max_workers") or os.cpu_count() or 1)
        digest = hashlib.sha256(json.dumps([worker_storage.backend, dict(worker_storage.config)],
                                           sort_keys=True, default=str).encode()).hexdigest()
        self._profile = (digest[:16], worker_storage.backend, dict(worker_storage.config))
        self._pool = get_pool()
        self._pool.set_limit(id(self), self.processes)
        self._pool.ensure_size(self.processes)

    @property
    def max_workers(self) -> int:
        return self.processes

    def invoke(self, tasks: Sequence[Task], listener: InvocationListener) -> None:
        self._pool.submit(list(tasks), listener, self._profile, id(self))

    def runtime_info(self) -> RuntimeInfo:
        version = ".".join(platform.python_version_tuple()[:2])
        return RuntimeInfo(f"python{version} (this interpreter)", version, wren_version)

"""`localhost` compute: calls run in this user's warm worker pool on this machine.

The pool is the user's pool server (`wren.worker.pool.client`), shared by every client
process and kept warm for `pool_idle_timeout` seconds after the last one leaves, so a fresh
script's first call does not wait for worker interpreters to start; with
`pool_idle_timeout: 0`, and inside a worker (a nested executor must never wait on the pool
running it), it is this process's own pool (`get_pool`).

The adapter pushes every status document straight to the client (no storage polling) and
supervises its calls: a worker that exits, is killed, crashes or overruns its timeout is
reported on the call it was running, with the exit code or signal named. With a `runtime`
(a container image, or `default`) the same pool runs inside a container started from that
image through the Docker API (`container_pool`), and runtimes are managed as images in that
engine (`runtimes`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from wren.__about__ import __version__ as wren_version
from wren._errors import WrenError
from wren.ports import (
    ComputeBackend,
    InvocationListener,
    RuntimeEntry,
    RuntimeInfo,
    WorkerStorage,
)
from wren.ports import capabilities as caps
from wren.protocol import keys
from wren.protocol.invocation import Invocation
from wren.worker.pool.pacing import SLICE_MAX_BYTES
from wren.worker.pool.profile import storage_profile

from wren_backend_local.config import COMPUTE_SCHEMA, default_storage_dir, prepare_storage_dir
from wren_backend_local.storage import LocalhostStorage

if TYPE_CHECKING:
    from wren.ports import ImageBuilder

logger = logging.getLogger("wren")

#: Whether `pool_idle_timeout` may start a shared pool server (the test suite turns it off
#: except in the tests of the server, so a test run never leaves servers behind).
SHARED_POOL = True


class LocalhostCompute(ComputeBackend):
    """Compute backend over the local warm worker pool."""

    name: ClassVar[str] = "localhost"
    capabilities = frozenset({caps.PUSH_STATUS, caps.SUPERVISES_CALLS,
                              caps.SHARED_FILESYSTEM, caps.SHARED_MEMORY,
                              caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD})
    config_schema = COMPUTE_SCHEMA
    tasks_per_worker: ClassVar[int] = 1
    max_payload_bytes: ClassVar[int] = 64 * 1024 * 1024
    #: Tasks the pool can cut (see `plan_chunksize`).
    task_bytes: ClassVar[int | None] = SLICE_MAX_BYTES

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        self.processes = int(self.config.get("worker_processes")
                             or self.config.get("max_workers") or os.cpu_count() or 1)
        runtime = self.config.get("runtime")
        self.runtime: str | None = None
        storage_config = dict(worker_storage.config)
        mounts: list[str] = []
        if runtime and worker_storage.backend == "localhost":
            # The container sees the storage directory at the same, absolute, path.
            directory = prepare_storage_dir(str(storage_config.get("storage_dir")
                                                or default_storage_dir())).resolve()
            storage_config["storage_dir"] = str(directory)
            storage_config["shared_memory"] = False  # the container has its own /dev/shm
            mounts.append(str(directory))
        self._profile = storage_profile(worker_storage.backend, storage_config)
        self._mounts = mounts
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self.idle_timeout = float(self.config.get("pool_idle_timeout") or 0)
        #: The workers' storage, when it is this machine's directory and they write it as
        #: this user (not from a container), and keeps statuses on disk (without shared
        #: memory): see `_make_status_dirs`.
        status_storage = LocalhostStorage(storage_config) \
            if worker_storage.backend == "localhost" and not runtime else None
        self._status_storage = status_storage \
            if status_storage is not None and status_storage.shared is None else None
        if runtime:
            self.runtime = self.default_runtime_name() if runtime == "default" else runtime
            self.capabilities = self.capabilities - {caps.SHARED_MEMORY}

    def _started_pool(self) -> Any:
        """The worker pool (or the runtime container's), started on first use: the first
        job's `runtime_info` starts it, so managing runtimes never starts workers."""
        with self._pool_lock:
            if self._pool is None:
                pool: Any
                if self.runtime is not None:
                    from wren_backend_local.container_pool import container_pool

                    pool = container_pool(self.runtime, self._mounts, id(self), self.processes)
                else:
                    pool = self._host_pool()
                    pool.set_limit(id(self), self.processes)
                pool.ensure_size(self.processes)
                self._pool = pool
            return self._pool

    def _host_pool(self) -> Any:
        if SHARED_POOL and self.idle_timeout > 0 and not os.environ.get("WREN_WORKER"):
            from wren.worker.pool.client import shared_pool

            return shared_pool(self.idle_timeout)
        from wren.worker.pool.supervisor import get_pool  # a client of the server needs none

        return get_pool()

    def warm_up(self) -> None:
        """Start the host pool's workers now (spawning them does not block), so they are
        ready by the first call; a container pool starts on a background thread."""
        if self.runtime is None:
            if self._status_storage is not None:
                with contextlib.suppress(WrenError):  # its first job says what is wrong
                    self._status_storage.warm_up(self._status_storage.default_bucket)
            pool = self._started_pool()
            if hasattr(pool, "connect_soon"):  # the user's pool server: reach it meanwhile
                pool.connect_soon()
                pool.introduce(self._profile)  # (if reached: the first job sends it otherwise)
        else:
            threading.Thread(target=self._warm_container, name="wren-runtime-start",
                             daemon=True).start()

    def _warm_container(self) -> None:
        try:
            self._started_pool()
        except Exception as exc:  # the first job starts it again and reports the error
            logger.debug("starting runtime %s ahead of the first job failed: %s",
                         self.runtime, exc)

    @property
    def max_workers(self) -> int:
        return self.processes

    def plan_chunksize(self, n_calls: int) -> int:
        """One task for the whole job (up to `task_bytes` of arguments): the pool shares a
        task's calls out among its workers as they run, a slice at a time sized from the
        function's measured call time (`wren.worker.pool.pacing`), so a split made here,
        before anything is known of the calls, would only add status documents (a map of
        100 no-op calls ran 0.3 ms faster as one task than as one per worker)."""
        return max(1, n_calls)

    def invoke(self, invocations: Sequence[Invocation], listener: InvocationListener) -> None:
        self._started_pool().submit(list(invocations), listener, self._profile, id(self))
        self._make_status_dirs(invocations)

    def _make_status_dirs(self, invocations: Sequence[Invocation]) -> None:
        """Make each job's status directory while the pool starts its tasks: it is the first
        thing a task's worker writes, and on disk making it took a one-call job's worker
        longer than the call. (Whichever comes first makes it; a failure here is the
        worker's to report.) Statuses in shared memory need none of this: there a worker
        makes the directory in microseconds, and the client's CPU is better left to the
        workers."""
        if self._status_storage is None:
            return
        for job_key, bucket in {(i.task.job_key, i.task.bucket) for i in invocations}:
            try:
                self._status_storage.make_prefix(bucket, keys.status_prefix(job_key))
            except (OSError, WrenError):
                pass

    def runtime_info(self) -> RuntimeInfo:
        pool = self._started_pool()
        if self.runtime is not None:
            return RuntimeInfo.from_dict(pool.facts, self.runtime)
        version = "{}.{}".format(*sys.version_info[:2])
        return RuntimeInfo(f"python{version} (this interpreter)", version, wren_version)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.release(id(self))

    # Runtime management: runtimes are images in the engine DOCKER_HOST names (`runtimes`,
    # imported on first use: a job without a runtime never talks to an engine) -------------
    def default_runtime_name(self) -> str:
        return _runtimes().default_image()

    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        _runtimes().build(name, dockerfile, builder)

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        return _runtimes().deploy(name)

    def update_runtime(self, name: str) -> None:
        _runtimes().deploy(name)

    def delete_runtime(self, name: str, memory: int | None = None) -> None:
        _runtimes().delete(name)

    def list_runtimes(self) -> list[RuntimeEntry]:
        return _runtimes().list_all()


def _runtimes() -> Any:
    from wren_backend_local import runtimes

    return runtimes

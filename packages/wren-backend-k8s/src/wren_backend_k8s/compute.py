"""`k8s` compute: each wren job runs as one indexed `batch/v1` Job of wren's runtime image.

`invoke` stages each job's tasks in storage, sealed with the executor key
(`wren.worker.fanout.stage_fanout`), and the dispatcher (`wren.dispatch`) delivers each job:
a Secret holding the key and the storage credentials, the Job (`completions` = tasks,
`parallelism` from `max_workers`), then the Secret is made the Job's own so both go
together. Pods run `wren.worker.array_task`, which picks its task by
`JOB_COMPLETION_INDEX`; a `PodWatcher` reports the calls of a pod that is OOMKilled, evicted
or fails. Runtime management is in `runtimes.RuntimeKeeper` (validation Jobs, metadata in
storage); `clean` deletes wren's finished Jobs.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wren.dispatch import DeliveringCompute, DispatchSettings, outcome_of_status
from wren.ports import ManagedRuntimes, RuntimeInfo
from wren.ports import capabilities as caps
from wren.ports.compute import InvocationListener, WorkerStorage
from wren.ports.images import ImageBuilder, build_and_push, check_image_name
from wren.protocol.task import Task
from wren.worker.array_task import TASKS_ENV
from wren.worker.fanout import FanoutRequest

from wren_backend_k8s.cluster import Cluster
from wren_backend_k8s.config import SCHEMA, default_image
from wren_backend_k8s.errors import K8sError
from wren_backend_k8s.pods import PodWatcher
from wren_backend_k8s.runtimes import RuntimeKeeper


def job_name(request: FanoutRequest) -> str:
    """A DNS label for the request's Job: its job key and staging id (pods add `-<index>`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.job_key.lower()).strip("-")[:36].strip("-")
    staged = request.key.rsplit("/", 1)[-1].split(".")[0][:8]
    return f"wren-{slug}-{staged}"


class K8sCompute(ManagedRuntimes, DeliveringCompute):
    """Compute backend over plain Kubernetes Jobs; deploying a runtime validates its image
    (its metadata entry runs in a pod and records what it says)."""

    name: ClassVar[str] = "k8s"
    capabilities = frozenset({caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD})
    config_schema = SCHEMA
    max_payload_bytes: ClassVar[int] = 1024 * 1024
    array_jobs: ClassVar[bool] = True
    #: Most completions of an indexed Job with `backoffLimitPerIndex` (Kubernetes' limit):
    #: a bigger wren job runs as several Jobs.
    max_fanout_tasks: ClassVar[int] = 100_000

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        self.client_id = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._cluster: Cluster | None = None
        self._watcher: PodWatcher | None = None
        self._runtimes: RuntimeKeeper | None = None

    # Wiring -------------------------------------------------------------------------------
    @property
    def cluster(self) -> Cluster:
        with self._lock:
            if self._cluster is None:
                self._cluster = Cluster(self.config.get("kubecfg_path"),
                                        self.config.get("context"), self.config.get("namespace"))
                self._watcher = PodWatcher(self._cluster, self.client_id)
            return self._cluster

    @property
    def runtimes(self) -> RuntimeKeeper:
        cluster = self.cluster
        with self._lock:
            if self._runtimes is None:
                self._runtimes = RuntimeKeeper(cluster, self.config, self.worker_storage,
                                               self.client_id)
            return self._runtimes

    @property
    def runtime(self) -> str:  # type: ignore[override]
        return self._image(str(self.config.get("runtime") or "default"))

    @property
    def memory(self) -> int:  # type: ignore[override]
        return int(self.config["runtime_memory"])

    def default_runtime_name(self) -> str:
        return default_image(self.config.get("docker_server"), self.config.get("docker_user"))

    def _image(self, name: str | None) -> str:
        if name in ("", "default", None):
            return self.default_runtime_name()
        return check_image_name(str(name))

    @property
    def max_workers(self) -> int:
        return int(self.config["max_workers"])

    # Running calls ------------------------------------------------------------------------
    def runtime_info(self) -> RuntimeInfo:
        return self.runtimes.info(self.runtime)

    def dispatch_settings(self) -> DispatchSettings:
        return DispatchSettings(threads=int(self.config["invoke_pool_threads"]),
                                retries=int(self.config["invoke_retries"]),
                                first_delay=0.25, max_delay=8.0)

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        """Resolve the image and write the registry login now: config errors raise here."""
        _ = self.runtime
        self.runtimes.pull_secrets()

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        """Create the request's Secret and its indexed Job (again after a retry: what
        exists is kept)."""
        name, runtimes = job_name(request), self.runtimes
        assert self._watcher is not None
        self._watcher.expect(name, tasks, listener)  # before the pods exist
        try:
            runtimes.start_job(name, self.runtime, request.count, "task",
                               {TASKS_ENV: request.public_json()}, request.executor_key)
        except K8sError as exc:
            raise outcome_of_status(getattr(exc.__cause__, "status", None), str(exc)) from exc

    def close(self) -> None:
        super().close()
        with self._lock:
            watcher, cluster = self._watcher, self._cluster
        if watcher is not None:
            watcher.close()
        if cluster is not None:
            cluster.close()

    # Runtime management -------------------------------------------------------------------
    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        """Build image `name` and push it to its registry with the configured login."""
        build_and_push(builder, self._image(name), dockerfile, self.config.get("docker_user"),
                       self.config.get("docker_password"))

    def clean_finished(self) -> list[str]:
        """Delete wren's finished Jobs of this namespace (their pods and Secrets go with
        them)."""
        removed = self.runtimes.clean()
        return [f"{removed} finished Jobs in namespace {self.cluster.namespace}"]

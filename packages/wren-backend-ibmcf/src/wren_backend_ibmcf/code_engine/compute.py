"""`code_engine` compute: each wren job is one IBM Code Engine job run, an array of instances.

Built on wren-core's dispatch kit (`wren.dispatch.DeliveringCompute` with `array_jobs`):
`invoke` stages a job's tasks in storage, sealed with the executor's key
(`wren.worker.fanout.stage_fanout`, up to `MAX_ARRAY_SIZE` tasks per request), and the kit's
threads hand each request to `deliver_fanout`, which creates one job run of the runtime's job
definition with `scale_array_spec` `0-<n-1>`. Instance `JOB_INDEX` runs task number
`JOB_INDEX` (`wren.worker.array_task`). The job run's environment names where the tasks are
(`WREN_TASKS`, public) and takes `WREN_KEY` from a secret of the project
(`RuntimeManager.key_secret`): the key never enters storage or a literal value. Job run
names derive from the staged object, so a retried creation answers 409 and is not run twice.
A `runs.RunWatcher` fails the calls of instances that fail at once; `close` and
`clean_finished` (`wren clean`) delete ended job runs (`runs.clean_project`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wren import ConfigError
from wren.dispatch import DeliveringCompute, DispatchSettings, Refused
from wren.ports import (
    ManagedRuntimes,
    RuntimeEntry,
    RuntimeInfo,
    StorageBackend,
    WorkerStorage,
)
from wren.ports import capabilities as caps
from wren.ports.compute import InvocationListener
from wren.ports.images import ImageBuilder, check_image_name
from wren.protocol.task import Task
from wren.worker.fanout import FanoutRequest
from wren.worker.storage_access import open_storage

from wren_backend_ibmcf.auth import IamAuth
from wren_backend_ibmcf.code_engine.api import CodeEngineApi
from wren_backend_ibmcf.code_engine.config import (
    CODE_ENGINE_SCHEMA,
    MAX_ARRAY_SIZE,
    PRICE_PER_GB_SECOND,
    PRICE_PER_VCPU_SECOND,
    check_resources,
    default_runtime,
)
from wren_backend_ibmcf.code_engine.runs import ENDED, RunWatcher, clean_project
from wren_backend_ibmcf.code_engine.runtimes import KEY_ENV, TASKS_ENV, RuntimeManager

logger = logging.getLogger("wren")



class CodeEngineCompute(ManagedRuntimes, DeliveringCompute):
    """Compute backend over IBM Code Engine batch jobs (REST API v2, IAM)."""

    name: ClassVar[str] = "code_engine"
    capabilities = frozenset({caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD,
                              caps.REMOTE_INVOKER})
    config_schema = CODE_ENGINE_SCHEMA
    max_fanout_tasks: ClassVar[int] = MAX_ARRAY_SIZE
    array_jobs: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        runtime = self.config.get("runtime") or default_runtime()
        if not runtime:
            raise ConfigError("there is no default code_engine runtime for this Python "
                              "version: build one (wren runtime build <image> -b code_engine) "
                              "and set `runtime` in the `code_engine` section")
        self.runtime = str(runtime)
        self.memory = int(self.config["runtime_memory"])
        self.cpu = float(self.config["runtime_cpu"])
        self.timeout_s = int(self.config["runtime_timeout"])
        check_resources(self.cpu, self.memory)
        self._job_memory: dict[str, int] = {}
        self._lock = threading.Lock()
        self._storage: StorageBackend | None = None
        self._runtimes: RuntimeManager | None = None
        self._runs: set[str] = set()
        self._watcher: RunWatcher | None = None

    @property
    def runtimes(self) -> RuntimeManager:
        """The project's job definitions, reached on first use (building an image needs no
        credentials): IAM, then the project by id, or by name (created when missing)."""
        with self._lock:
            if self._runtimes is None:
                self._runtimes = self._open_project()
            return self._runtimes

    @property
    def api(self) -> CodeEngineApi:
        return self.runtimes.api

    @property
    def project_id(self) -> str:
        return self.runtimes.project_id

    def _open_project(self) -> RuntimeManager:
        api = self._make_api()
        project_id = str(self.config.get("project_id") or api.project_id(
            str(self.config["project_name"]), self.config.get("resource_group_id")))
        storage = self.worker_storage
        private = {k: v for k, v in storage.config.items()
                   if k not in storage.public_config and v is not None}
        if storage.backend == "ibm_cos" and storage.config.get("private_endpoint"):
            private["endpoint"] = storage.config["private_endpoint"]
        return RuntimeManager(api, project_id, private, cpu=self.cpu, timeout=self.timeout_s,
                              registry_secret=self.config.get("registry_secret"),
                              processes=int(self.config.get("worker_processes") or 1))

    def _make_api(self) -> CodeEngineApi:
        config = self.config
        endpoint = config.get("endpoint")
        if not endpoint and config.get("region"):
            endpoint = f"https://api.{config['region']}.codeengine.cloud.ibm.com/v2"
        if not endpoint:
            raise ConfigError("set `region` in the `ibm` (or `code_engine`) section, or "
                              "`endpoint` in `code_engine`")
        if not config.get("iam_api_key"):
            raise ConfigError("no credentials for `code_engine`: set `iam_api_key` in the "
                              "`ibm` section")
        insecure = bool(config.get("insecure"))
        iam = IamAuth(str(config["iam_api_key"]), str(config["iam_endpoint"]),
                      verify=not insecure)
        return CodeEngineApi(str(endpoint), iam, insecure=insecure,
                             pool_size=int(config["invoke_pool_threads"]))

    # Delivering ---------------------------------------------------------------------------
    def dispatch_settings(self) -> DispatchSettings:
        return DispatchSettings(threads=int(self.config["invoke_pool_threads"]), retries=4,
                                throttle_timeout=float(self.config["throttle_timeout"]))

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            memory = int(task.runtime_memory or self.memory)
            if self._job_memory.get(task.job_key) != memory:
                check_resources(self.cpu, memory)
                self.runtimes.ensure(self.runtime, memory)
                self._job_memory[task.job_key] = memory

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        job = self.runtimes.ensure(self.runtime, self._job_memory.get(request.job_key,
                                                                      self.memory))
        env = [{"type": "literal", "name": TASKS_ENV, "value": request.public_json()},
               {"type": "secret_key_reference", "name": KEY_ENV, "key": KEY_ENV,
                "reference": self.runtimes.key_secret(request.executor_key)}]
        name = f"wren-run-{hashlib.sha256(request.key.encode()).hexdigest()[:24]}"
        try:
            self.api.call("create_job_run", self.project_id, job_name=job, name=name,
                          scale_array_spec=f"0-{request.count - 1}", run_env_variables=env)
        except Refused as refused:
            if "HTTP 409" not in refused.detail:  # 409: an earlier attempt created it
                raise
        api, project_id = self.api, self.project_id  # outside the lock: they take it
        with self._lock:
            self._runs.add(name)
            if self._watcher is None:
                self._watcher = RunWatcher(api, project_id)
            watcher = self._watcher
        watcher.expect(name, tasks, listener)

    def lost_deadline(self, task: Task, invoked_at: float) -> float | None:
        """Code Engine stops an instance after `runtime_timeout`: no status by then (plus
        time to pull and start the image) means the worker was lost."""
        busy = min(task.timeout * len(task.call_indices), float(self.timeout_s))
        return invoked_at + busy + max(60.0, 0.1 * busy)

    def call_cost(self, stats: Mapping[str, Any], runtime_memory: int | None) -> float | None:
        """Code Engine's list price per vCPU-second and GB-second of the instance's run,
        shared by the calls it ran."""
        start, end = stats.get("worker_start_tstamp"), stats.get("worker_end_tstamp")
        if start is None or end is None:
            return None
        per_second = (self.cpu * PRICE_PER_VCPU_SECOND
                      + (runtime_memory or self.memory) / 1024 * PRICE_PER_GB_SECOND)
        calls = max(1, int(stats.get("worker_calls") or 1))
        return per_second * max(0.0, end - start) / calls

    def runtime_info(self) -> RuntimeInfo:
        with self._lock:
            if self._storage is None:
                ws = self.worker_storage
                self._storage = open_storage(ws.backend, ws.public_config, ws.config)
        return self.runtimes.info(self.runtime, self.memory, self._storage,
                                  self.worker_storage, float(self.config["metadata_timeout"]))

    def close(self) -> None:
        """Stop delivering and watching; delete this client's completed job runs (failed
        ones stay for their logs until `wren clean`) and, once every run has ended, the
        secrets holding its executor keys (Code Engine reads them when an instance starts)."""
        super().close()
        if self._watcher is not None:
            self._watcher.close()
        if self._storage is not None:
            self._storage.close()
        if self._runtimes is None or not self._runs:
            return
        try:
            mine = [run for run in self.api.pages("list_job_runs", self.project_id)
                    if run.get("name") in self._runs]
            for run in mine:
                if run.get("status") == "completed":
                    self.api.call("delete_job_run", self.project_id, run["name"],
                                  missing_ok=True)
            if all(run.get("status") in ENDED for run in mine):
                self._runtimes.forget_keys()
        except Exception as exc:  # cleanup only: what stays, `wren clean` removes
            logger.warning("could not delete ended Code Engine job runs or key secrets: %s",
                           exc)

    def clean_finished(self) -> list[str]:
        """Delete wren's ended job runs of the project and the key secrets no running job
        run needs (`wren clean`)."""
        runs, keys = clean_project(self.api, self.project_id)
        where = f"project {self.config.get('project_id') or self.config['project_name']}"
        return [f"{runs} ended job runs in {where}", f"{keys} key secrets in {where}"]

    # Runtime management -------------------------------------------------------------------
    def default_runtime_name(self) -> str:
        image = default_runtime()
        if image is None:
            self.unsupported("a default runtime for this Python version",
                             "build one with `wren runtime build` and set `runtime`")
        return image

    @classmethod
    def runtime_dockerfile(cls, python_version: str) -> Any:
        from importlib.resources import files

        return files("wren_backend_ibmcf.code_engine") / "runtime" / "Dockerfile"

    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        """Build the image and push it: job runs pull their image from a registry. Code
        Engine runs linux/amd64 images: `wren runtime build` gives the builder the platform
        of `build_platform()` (the `runtime_platform` key, linux/amd64 by default)."""
        builder.build(check_image_name(name), dockerfile)
        builder.push(name)

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        check_resources(self.cpu, int(memory or self.memory))
        return super().deploy_runtime(name, memory, timeout)

"""`openwhisk` and `ibm_cf` compute: each task is one non-blocking activation of an action.

The adapter only delivers (`deliver`): wren-core's dispatch kit (`wren.dispatch`) runs the
threads, retries and waiting. 202 is delivered; 429 is `Throttled` (honouring `Retry-After`);
401 renews an IAM token once and 404 (no such action) deploys the runtime once, then retry;
5xx answers and connection errors are `Unavailable`; any other answer is `Refused`. With
`remote_invoker`, the kit stages the tasks in storage and one activation invokes them from
inside the platform (`wren.worker.fanout`). The workers' credentials are the action's default
parameters (`wren_backend_ibmcf.runtimes`), never part of a payload. `ibm_cf` adds IAM tokens
and finds the namespace id by its name. Grouping (`plan_chunksize`): every task is an
activation that costs a status object written and read in storage, so when a map has several
calls per activation anyway, its tasks grow by up to a quarter toward `COST_GROUP` calls.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wren import ConfigError
from wren.dispatch import DeliveringCompute, DispatchSettings
from wren.ports import (
    InvocationListener,
    ManagedRuntimes,
    RuntimeEntry,
    RuntimeInfo,
    WorkerStorage,
)
from wren.ports import capabilities as caps
from wren.ports.images import ImageBuilder, check_image_name
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.worker.fanout import FANOUT_FIELD, FanoutRequest

from wren_backend_ibmcf.action import COMPUTE_PARAM, STORAGE_PARAM
from wren_backend_ibmcf.auth import BasicAuth, IamAuth
from wren_backend_ibmcf.bundle import build_bundle
from wren_backend_ibmcf.config import (
    IBM_CF_SCHEMA,
    IBM_LIMITS,
    OPENWHISK_SCHEMA,
    STOCK_LIMITS,
    PlatformLimits,
    default_runtime,
)
from wren_backend_ibmcf.openwhisk_client import OpenWhiskClient
from wren_backend_ibmcf.retired import warn_if_retired
from wren_backend_ibmcf.runtimes import RuntimeManager

logger = logging.getLogger("wren")

#: IBM Cloud Functions' list price in US dollars per GB-second of activation time.
PRICE_PER_GB_SECOND = 0.000017
#: Calls per activation at which a task's two storage requests (its status object, written
#: by the worker and read by the client) cost at most 0.2 per call, with room for listings.
COST_GROUP = 12
#: How much longer than the even split an activation may run to get there: a quarter.
COST_SLACK = 0.25


class OpenWhiskCompute(ManagedRuntimes, DeliveringCompute):
    """Compute backend over the OpenWhisk REST API with Basic auth."""

    name: ClassVar[str] = "openwhisk"
    capabilities = frozenset({caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD,
                              caps.REMOTE_INVOKER})
    config_schema = OPENWHISK_SCHEMA
    #: The platform's published limits: the schema's bounds and the 429 hint come from them.
    limits: ClassVar[PlatformLimits] = STOCK_LIMITS
    max_payload_bytes: ClassVar[int] = 384 * 1024  # base64 in JSON stays under 1 MB

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        runtime = self.config.get("runtime") or default_runtime()
        if not runtime:
            raise ConfigError(f"there is no default {self.name} runtime for this Python "
                              f"version: build one (wren runtime build <image> -b "
                              f"{self.name}) and set `runtime` in the `{self.name}` section")
        self.runtime = str(runtime)
        self.memory = int(self.config.get("runtime_memory") or 256)
        self.timeout_s = int(self.config.get("runtime_timeout") or self.limits.timeout_s)
        self.check_limits(self.memory, self.timeout_s)
        self.client = self._make_client()
        self.client.throttle_hint = self.limits.throttle_hint(self.name,
                                                              self.config.get("max_workers"))
        self.runtimes = RuntimeManager(self.client, self.name, self.timeout_s,
                                       self._worker_parameters,
                                       lambda: build_bundle(worker_storage.backend))
        self.runtimes.throttle_wait = float(self.config["throttle_timeout"])
        self._actions: dict[int, str] = {}
        self._actions_lock = threading.Lock()

    def _make_client(self) -> OpenWhiskClient:
        endpoint, api_key = self.config.get("endpoint"), self.config.get("api_key")
        if not endpoint or not api_key:
            raise ConfigError("the `openwhisk` section needs `endpoint` (the API host) and "
                              "`api_key` (`uuid:key`, from `wsk property get --auth`)")
        return OpenWhiskClient(str(endpoint), BasicAuth(str(api_key)),
                               namespace=str(self.config.get("namespace") or "_"),
                               insecure=bool(self.config.get("insecure")),
                               pool_size=int(self.config["invoke_pool_threads"]))

    def check_limits(self, memory: int, timeout_s: float | None = None) -> None:
        """Raise `ConfigError` (quoting the platform's published limit) for an action's memory
        or time limit that the platform would refuse, before anything is deployed."""
        values = {"runtime_memory": memory}
        if timeout_s is not None:
            values["runtime_timeout"] = int(timeout_s)
        for name, value in values.items():
            key = self.config_schema.get(name)
            if key is not None:
                key.check(self.name, value)

    # What the action's parameters carry ---------------------------------------------------
    def _worker_parameters(self) -> dict[str, Any]:
        storage = self.worker_storage
        private = {k: v for k, v in storage.config.items()
                   if k not in storage.public_config and v is not None}
        if storage.backend == "ibm_cos" and storage.config.get("private_endpoint"):
            private["endpoint"] = storage.config["private_endpoint"]
        parameters: dict[str, Any] = {STORAGE_PARAM: {"backend": storage.backend,
                                                      "config": private}}
        if self.config.get("remote_invoker"):
            parameters[COMPUTE_PARAM] = {"backend": self.name,
                                         "config": self.fanout_credentials()}
        return parameters

    def plan_chunksize(self, n_calls: int) -> int:
        """The even split over `max_workers` activations; when that already gives each
        activation 4 calls or more (it runs them one after another), up to a quarter more,
        toward `COST_GROUP`: fewer activations and storage requests for the same map, and a
        bounded wait for long calls (a single activation's calls, never more than 25%). A map
        with fewer calls than that keeps one activation per even share."""
        even = super().plan_chunksize(n_calls)
        return max(even, min(COST_GROUP, math.floor(even * (1 + COST_SLACK))))

    # Delivering ---------------------------------------------------------------------------
    def dispatch_settings(self) -> DispatchSettings:
        return DispatchSettings(threads=int(self.config["invoke_pool_threads"]), retries=4,
                                throttle_timeout=float(self.config["throttle_timeout"]),
                                first_delay=0.05, max_delay=2.0)

    def _action(self, memory: int | None) -> str:
        """The action for `memory` MB, deployed (checked once per memory per client)."""
        memory = int(memory or self.memory)
        found = self._actions.get(memory)
        if found is None:
            self.check_limits(memory)
            found = self.runtimes.ensure(self.runtime, memory)
            with self._actions_lock:
                self._actions[memory] = found
        return found

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        for memory in {task.runtime_memory or self.memory for task in tasks}:
            self._action(memory)
        if self.remote_invoker:
            self._action(self.memory)

    def deliver(self, invocation: Invocation) -> None:
        action = self._action(invocation.task.runtime_memory)
        self._post(action, json.dumps(invocation.to_dict()).encode())

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        action = self._action(self.memory)
        self._post(action, json.dumps({FANOUT_FIELD: request.to_dict()}).encode())

    def _post(self, action: str, body: bytes) -> None:
        url = self.client.action_url(self.runtimes.package, action)
        self.client.deliver_invocation(url, action, body, self._deploy_missing)

    def _deploy_missing(self, name: str) -> None:
        memory = int(name.split("_")[-2].removesuffix("MB"))
        self.runtimes.redeploy_missing(self.runtime, memory)

    def lost_deadline(self, task: Task, invoked_at: float) -> float | None:
        """The platform stops an activation after `runtime_timeout`: no status by then (plus
        a grace period for queueing) means the worker was lost."""
        busy = min(task.timeout * len(task.call_indices), float(self.timeout_s))
        return invoked_at + busy + max(30.0, 0.1 * busy)

    def runtime_info(self) -> RuntimeInfo:
        return self.runtimes.info(self.runtime, self.memory)

    def close(self) -> None:
        super().close()
        self.client.close()

    # Runtime management -------------------------------------------------------------------
    def default_runtime_name(self) -> str:
        image = default_runtime()
        if image is None:
            self.unsupported("a default runtime for this Python version",
                             "build one with `wren runtime build` and set `runtime`")
        return image

    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        """Build the image from this package's runtime/ (or `dockerfile`) and push it: the platform
        pulls action images from a registry."""
        builder.build(check_image_name(name), dockerfile)
        builder.push(name)

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        """The platform's limits are checked before anything is deployed."""
        self.check_limits(int(memory or self.memory), timeout)
        return super().deploy_runtime(name, memory, timeout)


class IbmCfCompute(OpenWhiskCompute):
    """IBM Cloud Functions: IAM namespaces (bearer tokens) or Cloud Foundry ones (Basic)."""

    name: ClassVar[str] = "ibm_cf"
    config_schema = IBM_CF_SCHEMA
    limits: ClassVar[PlatformLimits] = IBM_LIMITS

    def _make_client(self) -> OpenWhiskClient:
        config = self.config
        endpoint = config.get("endpoint")
        if not endpoint and config.get("region"):
            endpoint = f"https://{config['region']}.functions.cloud.ibm.com"
        if not endpoint:
            raise ConfigError("set `endpoint` or `region` in the `ibm_cf` section (or "
                              "`region` in the `ibm` section)")
        warn_if_retired(str(endpoint))
        insecure, pool_size = bool(config.get("insecure")), int(config["invoke_pool_threads"])
        if config.get("api_key"):
            if not config.get("namespace"):
                raise ConfigError("set `namespace` in the `ibm_cf` section")
            return OpenWhiskClient(str(endpoint), BasicAuth(str(config["api_key"])),
                                   namespace=str(config["namespace"]), insecure=insecure,
                                   pool_size=pool_size)
        if not config.get("iam_api_key"):
            raise ConfigError("no credentials for `ibm_cf`: set `iam_api_key` in the `ibm` "
                              "section (IAM namespaces) or `api_key` in `ibm_cf` (Cloud "
                              "Foundry namespaces)")
        auth = IamAuth(str(config["iam_api_key"]), str(config["iam_endpoint"]),
                       verify=not insecure)
        client = OpenWhiskClient(str(endpoint), auth, insecure=insecure, pool_size=pool_size)
        client.namespace = self._namespace_id(client)
        self.config["namespace_id"] = client.namespace
        return client

    def call_cost(self, stats: Mapping[str, Any], runtime_memory: int | None) -> float | None:
        """IBM's list price, per GB-second of an activation, shared by its calls."""
        start, end = stats.get("worker_start_tstamp"), stats.get("worker_end_tstamp")
        if start is None or end is None:
            return None
        gigabytes = (runtime_memory or self.memory) / 1024
        calls = max(1, int(stats.get("worker_calls") or 1))
        return PRICE_PER_GB_SECOND * gigabytes * max(0.0, end - start) / calls

    def _namespace_id(self, client: OpenWhiskClient) -> str:
        if self.config.get("namespace_id"):
            return str(self.config["namespace_id"])
        wanted = self.config.get("namespace")
        if not wanted:
            raise ConfigError("set `namespace` (its name) or `namespace_id` in the `ibm_cf` "
                              "section")
        found = client.list_namespaces()
        for namespace in found:
            if namespace.get("name") == wanted and namespace.get("id"):
                return str(namespace["id"])
        names = ", ".join(sorted(str(n.get("name")) for n in found)) or "none"
        raise ConfigError(f"IBM Cloud Functions has no IAM namespace named {wanted!r} that "
                          f"this API key can use (found: {names}); fix `namespace` in the "
                          "`ibm_cf` section or create it with `ibmcloud fn namespace create`")

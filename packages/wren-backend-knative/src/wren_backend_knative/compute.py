"""`knative` compute: calls run in wren runtimes deployed as Knative Services.

Before the first call the adapter makes sure the runtime (`runtime` image at
`runtime_memory`, or per job `runtime_memory`) is deployed and Ready, deploying it when
missing, reads the runtime's bearer token from its Secret, and reads its metadata (`GET
/metadata`) so wren-core can check the Python version. `invoke` queues the tasks and
returns; each task is one request to the address `ingress.plan_route` picks (the gateway,
or a cluster-local URL) with the Service's `Host` and the token. A task whose longest run
(call timeout x calls) fits in `runtime_timeout` is sent held (`invoke_mode: auto`; always
with `hold`, never with `async`): its request lasts as long as the task, so Knative's
autoscaler sees the work; the hold ends a margin before the revision's timeout. Workers
report through storage, which the client polls. Runtime management (`deploy_runtime`, `update_runtime`, `delete_runtime`,
`list_runtimes`) works on the Services labelled as wren runtimes in the namespace.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests
from wren.dispatch import DeliveringCompute, DispatchSettings
from wren.ports import RuntimeEntry, RuntimeInfo
from wren.ports import capabilities as caps
from wren.ports.compute import WorkerStorage
from wren.ports.images import ImageBuilder, build_and_push, check_image_name
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task

from wren_backend_knative.cluster import Cluster
from wren_backend_knative.config import SCHEMA, default_image
from wren_backend_knative.delivery import REDIRECT_HINT, HttpDeliverer
from wren_backend_knative.errors import KnativeError
from wren_backend_knative.ingress import (
    Route,
    check_endpoint,
    discover_endpoint,
    in_cluster,
    plan_route,
)
from wren_backend_knative.manifest import runtime_entry
from wren_backend_knative.runtimes import RuntimeManager

logger = logging.getLogger("wren")

#: Seconds a hold ends before the revision's timeout, so Knative never cuts a held request.
HOLD_MARGIN = 15.0


class KnativeCompute(DeliveringCompute):
    """Compute backend over Knative Serving."""

    name: ClassVar[str] = "knative"
    capabilities = frozenset({caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD})
    config_schema = SCHEMA
    max_payload_bytes: ClassVar[int] = 1024 * 1024

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        endpoint = self.config.get("ingress_endpoint") or self.config.get("istio_endpoint")
        self._endpoint = check_endpoint(endpoint) if endpoint else None
        self._lock = threading.Lock()
        self._reroute_lock = threading.Lock()
        self._cluster: Cluster | None = None
        self._manager: RuntimeManager | None = None
        self._routes: dict[int, Route] = {}
        self._gateways: dict[str, str] = {}
        self._info: RuntimeInfo | None = None
        ca = self.config.get("ingress_ca")
        self.http = HttpDeliverer(self._route_of, threads=int(self.config["invoke_pool_threads"]),
                                  read_timeout=float(self.config["runtime_timeout"]) + 30,
                                  reroute=self.reroute, hold_for=self.hold_for,
                                  ssl_context=ssl.create_default_context(cafile=ca)
                                  if ca else None)

    # Wiring -------------------------------------------------------------------------------
    @property
    def manager(self) -> RuntimeManager:
        with self._lock:
            if self._manager is None:
                config = self.config
                cluster = Cluster(config.get("kubecfg_path"), config.get("context"),
                                  config.get("namespace"))
                cluster.check()
                self._cluster = cluster
                self._manager = RuntimeManager(cluster, config, self.worker_storage)
            return self._manager

    @property
    def runtime_name(self) -> str:
        return check_image_name(str(self.config.get("runtime") or self.default_runtime_name()))

    def default_runtime_name(self) -> str:
        return default_image(self.config.get("docker_server"), self.config.get("docker_user"))

    def _memory(self, memory: int | None) -> int:
        return int(memory or self.config["runtime_memory"])

    def route(self, memory: int | None = None) -> Route:
        """How to reach the runtime at `memory` MB, deploying it first when needed."""
        memory = self._memory(memory)
        found = self._routes.get(memory)
        if found is not None:
            return found
        image = self.runtime_name  # a bad name is an error before the cluster is contacted
        manager = self.manager
        spec = manager.spec(image, memory)
        service = manager.ensure(spec)
        token = manager.token(spec)
        endpoint, host = plan_route(service, self._endpoint, self.config["networking_layer"],
                                    self._gateway, in_cluster())
        template = ((service.get("spec") or {}).get("template") or {}).get("spec") or {}
        route = Route(spec.name, endpoint, host, memory, token,
                      float(template.get("timeoutSeconds") or spec.timeout))
        with self._lock:
            self._routes[memory] = route
        logger.debug("knative: runtime %s reached at %s with Host %s", spec.image,
                     route.endpoint, route.host)
        return route

    def _gateway(self, scheme: str) -> str:
        """The public gateway's URL for `scheme`, found once."""
        if scheme not in self._gateways:
            self._gateways[scheme] = discover_endpoint(self.manager.cluster,
                                                       self.config["networking_layer"], scheme)
        return self._gateways[scheme]

    def hold_for(self, task: Task) -> float | None:
        """Seconds the runtime may hold `task`'s request (None: send it async)."""
        mode = self.config["invoke_mode"]
        limit = self._route_of(task).timeout - HOLD_MARGIN
        if mode == "async" or limit <= 0:
            return None
        if mode == "hold" or task.timeout * max(1, len(task.call_indices)) <= limit:
            return limit
        return None

    def reroute(self, stale: Route) -> Route | None:
        """A fresh route after the gateway answered 404 for `stale` (the Service was
        deleted or replaced) or the runtime 401 (its token changed): the runtime is ensured
        again, deploying it if it is gone, and its token read again."""
        with self._reroute_lock:
            current = self._routes.get(stale.memory)
            if current is not None and current != stale:
                return current  # another thread already recovered it
            self._routes.pop(stale.memory, None)
            try:
                return self.route(stale.memory)
            except Exception as exc:
                logger.warning("knative: runtime %s is unreachable and could not be deployed "
                               "again: %s", self.runtime_name, exc)
                return None

    @property
    def max_workers(self) -> int:
        return int(self.config["max_workers"])

    # Running calls ------------------------------------------------------------------------
    def runtime_info(self) -> RuntimeInfo:
        if self._info is None:
            route = self.route()
            try:
                answer = self.http.get(route, "/metadata")
                if answer.status_code != 200:
                    hint = f"; {REDIRECT_HINT}" if answer.status_code in (301, 308) else ""
                    raise ValueError(f"HTTP {answer.status_code} {answer.reason}: "
                                     f"{answer.text[:300]}{hint}")
                data = answer.json()
            except (requests.RequestException, OSError, ValueError) as exc:
                raise KnativeError(f"cannot read the metadata of runtime {self.runtime_name!r} "
                                   f"(Host {route.host} at {route.endpoint}): {exc}") from exc
            self._info = RuntimeInfo.from_dict(data, self.runtime_name)
        return self._info

    def dispatch_settings(self) -> DispatchSettings:
        return DispatchSettings(threads=int(self.config["invoke_pool_threads"]),
                                retries=int(self.config["invoke_retries"]),
                                first_delay=0.25, max_delay=8.0)

    def _route_of(self, task: Task) -> Route:
        return self.route(task.runtime_memory)

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        for memory in {self._memory(task.runtime_memory) for task in tasks}:
            self.route(memory)

    def deliver(self, invocation: Invocation) -> None:
        self.http.deliver(invocation)

    def close(self) -> None:
        super().close()
        self.http.close()
        if self._cluster is not None:
            self._cluster.close()

    # Runtime management -------------------------------------------------------------------
    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        """Build image `name` and push it to its registry with the configured registry login
        (a `localhost/` image stays in the engine: load it into the cluster yourself)."""
        build_and_push(builder, self._image(name), dockerfile, self.config.get("docker_user"),
                       self.config.get("docker_password"))

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        image = self._image(name)
        manager = self.manager
        spec = manager.spec(image, memory, timeout)
        return runtime_entry(manager.deploy(spec))

    def update_runtime(self, name: str) -> None:
        image = self._image(name)
        if not self.manager.update(image):
            raise KnativeError(f"runtime {image!r} is not deployed in namespace "
                               f"{self.manager.cluster.namespace!r}; deploy it with: wren "
                               f"runtime deploy {image} -b knative")

    def delete_runtime(self, name: str, memory: int | None = None) -> None:
        image = self._image(name)
        deleted = self.manager.delete(image, memory)
        logger.info("knative: deleted %d Service(s) of runtime %s", len(deleted), image)
        self._routes.clear()

    def list_runtimes(self) -> list[RuntimeEntry]:
        return self.manager.list()

    def _image(self, name: str) -> str:
        if not name or name == "default":
            return self.default_runtime_name()
        return check_image_name(name)

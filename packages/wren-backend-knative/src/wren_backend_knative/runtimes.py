"""`RuntimeManager`: deploy, update, delete and list wren runtimes as Knative Services.

Deploying writes the runtime's Secret, which holds its storage credentials and the bearer
token its callers must show (made once, then kept: running pods hold it), and an image-pull
Secret when a registry login is configured; creates or replaces the Service, and waits until
Knative reports it `Ready`; a Service that reports `Ready: False`, or is not ready in time, is
an error quoting its conditions. `ensure` is what a client does before running calls: it
deploys a missing runtime, deploys again one that does not read the token or has another
visibility, rolls out a new revision when the storage settings changed, and otherwise only
checks readiness; `token` reads the token back from the Secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from wren.ports.compute import RuntimeEntry, WorkerStorage

from wren_backend_knative.cluster import Cluster
from wren_backend_knative.config import SCHEMA, SECTION
from wren_backend_knative.errors import KnativeError, RuntimeDeployError
from wren_backend_knative.manifest import (
    CLUSTER_LOCAL,
    IMAGE_ANNOTATION,
    MANAGED_BY,
    MEMORY_LABEL,
    RUNTIME_SELECTOR,
    STORAGE_ANNOTATION,
    STORAGE_KEY,
    RuntimeSpec,
    is_current,
    runtime_entry,
    service_manifest,
    storage_digest_of,
    storage_secret_name,
)
from wren_backend_knative.runtime_auth import TOKEN_KEY, new_token

logger = logging.getLogger("wren")

DIGEST_ANNOTATION = "wren.dev/content-digest"


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()
                          ).hexdigest()[:16]


def condition(service: Mapping[str, Any], kind: str) -> dict[str, Any]:
    found = ((service.get("status") or {}).get("conditions")) or []
    return next((c for c in found if c.get("type") == kind), {})


def conditions_text(service: Mapping[str, Any]) -> str:
    """E.g. `Ready=False (RevisionFailed: Revision "x-00001" failed ...)`."""
    parts = []
    for item in ((service.get("status") or {}).get("conditions")) or []:
        text = f"{item.get('type')}={item.get('status')}"
        detail = ": ".join(str(item[k]) for k in ("reason", "message") if item.get(k))
        parts.append(f"{text} ({detail})" if detail else text)
    return "; ".join(parts) or "no conditions reported yet"


def _checked(name: str, value: int) -> int:
    key = SCHEMA.get(name)
    assert key is not None
    return int(key.check(SECTION, value))


def _secret_value(secret: Any, key: str) -> str | None:
    """`key` of a Secret read from the API (None when the Secret or the key is missing)."""
    value = ((secret.data if secret is not None else None) or {}).get(key)
    return base64.b64decode(value).decode() if value else None


class RuntimeManager:
    """Runtime Services of one namespace, deployed with one client's settings."""

    def __init__(self, cluster: Cluster, config: Mapping[str, Any],
                 storage: WorkerStorage) -> None:
        self.cluster, self.config, self.storage = cluster, config, storage
        self.storage_digest = digest([storage.backend, dict(storage.config)])

    def spec(self, image: str, memory: int | None = None,
             timeout: float | None = None) -> RuntimeSpec:
        config = self.config
        concurrency = int(config.get("worker_processes") or config["concurrency"])
        # Values given here (`wren runtime deploy --memory/--timeout`) skipped the config's
        # checks: the platform's limits apply to them before anything is deployed.
        memory = _checked("runtime_memory", int(memory or config["runtime_memory"]))
        timeout = _checked("runtime_timeout", int(timeout or config["runtime_timeout"]))
        return RuntimeSpec(
            image=image, memory=memory,
            cpu=float(config["runtime_cpu"]),
            timeout=timeout, concurrency=concurrency,
            max_workers=int(config["max_workers"]),
            min_instances=int(config["runtime_min_instances"]),
            storage_digest=self.storage_digest, pull_secret=self._pull_secret_name(),
            cluster_local=config.get("visibility") == CLUSTER_LOCAL,
            scale_down_delay=int(config.get("scale_down_delay") or 0))

    # Secrets ------------------------------------------------------------------------------
    def _pull_secret_name(self) -> str | None:
        user, password = self.config.get("docker_user"), self.config.get("docker_password")
        if not (user and password):
            return None
        return f"wren-registry-{digest([self.config.get('docker_server'), user])[:10]}"

    def _apply_secret(self, name: str, kind: str, string_data: dict[str, str],
                      found: Any) -> None:
        """Write Secret `name` unless `found` (its current state, or None) already holds
        `string_data`."""
        wanted = digest([kind, string_data])
        meta: dict[str, Any] = {"name": name, "labels": {MANAGED_BY: "wren"},
                                "annotations": {DIGEST_ANNOTATION: wanted}}
        body = {"metadata": meta, "type": kind, "stringData": string_data}
        if found is None:
            self.cluster.create_secret(body)
        elif ((found.metadata.annotations or {}).get(DIGEST_ANNOTATION)) != wanted:
            meta["resourceVersion"] = found.metadata.resource_version
            self.cluster.replace_secret(name, body)

    def _apply_secrets(self, spec: RuntimeSpec) -> None:
        config = json.dumps(dict(self.storage.config), default=str)
        name = storage_secret_name(spec.name)
        found = self.cluster.get_secret(name)
        token = _secret_value(found, TOKEN_KEY) or new_token()
        self._apply_secret(name, "Opaque", {STORAGE_KEY: config, TOKEN_KEY: token}, found)
        if spec.pull_secret:
            server = str(self.config.get("docker_server") or "docker.io")
            user, password = self.config["docker_user"], self.config["docker_password"]
            auth = base64.b64encode(f"{user}:{password}".encode()).decode()
            registry = "https://index.docker.io/v1/" if server in (
                "docker.io", "index.docker.io") else server
            login = {"auths": {registry: {"username": user, "password": password,
                                          "auth": auth}}}
            self._apply_secret(spec.pull_secret, "kubernetes.io/dockerconfigjson",
                               {".dockerconfigjson": json.dumps(login)},
                               self.cluster.get_secret(spec.pull_secret))

    def token(self, spec: RuntimeSpec) -> str:
        """The bearer token of `spec`'s runtime, read from its Secret."""
        name = storage_secret_name(spec.name)
        token = _secret_value(self.cluster.get_secret(name), TOKEN_KEY)
        if not token:
            raise KnativeError(
                f"the Secret {self.cluster.namespace}/{name} of runtime {spec.image!r} holds "
                f"no `{TOKEN_KEY}`, so wren cannot authenticate to the runtime; deploy it "
                f"again: wren runtime update {spec.image} -b knative")
        return token

    # Services -----------------------------------------------------------------------------
    def deploy(self, spec: RuntimeSpec) -> dict[str, Any]:
        """Create or replace the runtime's Service and wait until it is Ready."""
        self._apply_secrets(spec)
        body = service_manifest(spec)
        existing = self.cluster.get_service(spec.name)
        if existing is None:
            try:
                written = self.cluster.create_service(body)
            except KnativeError as exc:
                if "AlreadyExists" not in str(exc):
                    raise
                return self.deploy(spec)  # another client created it meanwhile
        else:
            body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            written = self.cluster.replace_service(spec.name, body)
        logger.info("knative: deployed runtime %s as Service %s/%s", spec.image,
                    self.cluster.namespace, spec.name)
        return self.wait_ready(spec, written["metadata"].get("generation", 1))

    def ensure(self, spec: RuntimeSpec) -> dict[str, Any]:
        """The runtime's Ready Service: deployed if missing, rolled out again if the storage
        settings changed, else only checked."""
        existing = self.cluster.get_service(spec.name)
        if existing is None or not is_current(existing, spec):
            return self.deploy(spec)
        if storage_digest_of(existing) != spec.storage_digest:
            self._apply_secrets(spec)
            written = self.cluster.patch_service(spec.name, {"spec": {"template": {
                "metadata": {"annotations": {STORAGE_ANNOTATION: spec.storage_digest}}}}})
            return self.wait_ready(spec, written["metadata"].get("generation", 1))
        return self.wait_ready(spec, existing["metadata"].get("generation", 1))

    def wait_ready(self, spec: RuntimeSpec, generation: int) -> dict[str, Any]:
        timeout = float(self.config["deploy_timeout"])
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            service = self.cluster.get_service(spec.name)
            if service is None:
                raise RuntimeDeployError(f"the Knative Service {spec.name!r} of runtime "
                                         f"{spec.image!r} was deleted while wren waited for it")
            observed = (service.get("status") or {}).get("observedGeneration") or 0
            ready = condition(service, "Ready").get("status")
            if observed >= generation and ready == "True":
                return service
            if observed >= generation and ready == "False":
                raise RuntimeDeployError(
                    f"the runtime {spec.image!r} ({spec.memory} MB) did not become ready: "
                    f"Knative Service {self.cluster.namespace}/{spec.name} reports "
                    f"{conditions_text(service)}. Fix the cause (image name, registry login, "
                    f"resources) and deploy again: wren runtime deploy {spec.image} "
                    f"--memory {spec.memory} -b knative")
            if time.monotonic() >= deadline:
                raise RuntimeDeployError(
                    f"the runtime {spec.image!r} ({spec.memory} MB) is not ready after "
                    f"{timeout:g} s: Knative Service {self.cluster.namespace}/{spec.name} "
                    f"reports {conditions_text(service)}. Raise `deploy_timeout` in the "
                    "`knative` config section if the cluster is just slow")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def services(self, image: str | None = None,
                 memory: int | None = None) -> list[dict[str, Any]]:
        """wren's runtime Services, optionally only those of `image` (and `memory`)."""
        selector = RUNTIME_SELECTOR + (f",{MEMORY_LABEL}={memory}" if memory else "")
        found = self.cluster.list_services(selector)
        return [s for s in found if image is None or
                ((s["metadata"].get("annotations") or {}).get(IMAGE_ANNOTATION)) == image]

    def update(self, image: str) -> list[RuntimeEntry]:
        """Redeploy every Service of `image` with this client's settings."""
        updated = []
        for service in self.services(image):
            memory = runtime_entry(service).memory
            updated.append(runtime_entry(self.deploy(self.spec(image, memory))))
        return updated

    def delete(self, image: str, memory: int | None = None) -> list[str]:
        """Delete the Services of `image` (only the `memory` one when given) and their
        storage Secrets; return the names of the deleted Services."""
        deleted = []
        for service in self.services(image, memory):
            name = service["metadata"]["name"]
            if self.cluster.delete_service(name):
                deleted.append(name)
            self.cluster.delete_secret(storage_secret_name(name))
        return deleted

    def list(self) -> list[RuntimeEntry]:
        return sorted((runtime_entry(s) for s in self.services()),
                      key=lambda e: (e.name, e.memory or 0))

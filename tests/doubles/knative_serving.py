"""Knative Serving's controller, as the Kubernetes API test double plays it.

When a `serving.knative.dev/v1` Service is created or its spec changes, a revision is rolled
out the way Knative does it, with conditions a client can watch: `Ready` goes `Unknown`, then
`True` once the new revision's container answers its readiness probe, or `False` with a
message that says why (an image that cannot be pulled, a Secret that does not exist, a
container that exits). The container is a real process on loopback: images the double was
told about run the real runtimes/knative entry point with this interpreter, given exactly the
container's env (Secret references resolved) and `PORT`, `K_SERVICE`, `K_REVISION`; the
double's image table says which command each image runs; given a registry, an image from it
that the registry holds runs for real in podman (see `tests.doubles.containers`, which also
restarts a container that dies). The old revision keeps serving until the new one
is ready and is then stopped with SIGTERM, as Kubernetes stops a pod.

What it follows, from Knative's documentation (knative.dev/docs) and its published CRD:
- Admission: every Service body is validated against the `serving.knative.dev/v1` Service
  CRD's openAPIV3Schema (tests/doubles/schemas/knative-service-v1.yaml, copied from
  knative/serving; fields the structural schema does not declare are pruned, as the API
  server does), then by the webhook's rules for the fields wren sets ("Configuring the
  Defaults ConfigMap": timeoutSeconds <= max-revision-timeout-seconds, 600 by default;
  containerConcurrency <= container-concurrency-max-limit, 1000; "Configuring scale bounds"
  and "Scale Down Delay": integer scale bounds, a scale-down-delay of 0s to 1h).
- Domains ("Changing the default domain", "Configuring Services visibility"): without a
  configured domain (`domain="svc.cluster.local"`, Knative's default since 1.9) every
  Service's `status.url` is `http://<name>.<namespace>.svc.cluster.local`, which the public
  gateway does not serve; a Service labelled `networking.knative.dev/visibility:
  cluster-local` gets such a URL whatever the domain. The local gateway serves every
  Service's cluster-local name.
- "Configuring HTTPS with TLS certificates" / config-network `http-protocol`: with
  `http_protocol="Redirected"` (which needs external-domain TLS) `status.url` is https and
  the public gateway answers http requests with `301` to the https URL.
- "Revisions" / Service status: a revision whose image cannot be pulled or whose container
  exits turns `Ready` False with reason `RevisionFailed` and the kubelet's message, at once.
- The queue-proxy counts the requests in flight at each revision (what the autoscaler
  scales on, "Configuring the autoscaler"); the gateway reports them per revision here
  (`in_flight`, `peak_in_flight`) for tests to see what Knative would see.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.doubles.containers import (
    Container,
    ContainerFailed,
    podman_container,
    registry_has,
)
from tests.doubles.kube_objects import ApiError, Kind, ObjectStore, container_env

KSERVICE = Kind("serving.knative.dev", "v1", "services", "Service", dns1035_names=True,
                has_status=True)
SECRET = Kind("", "v1", "secrets", "Secret")
VISIBILITY_LABEL = "networking.knative.dev/visibility"
RUNTIME_ENTRY = Path(str(files("wren_backend_knative") / "runtime" / "entry_point.py"))
#: What a container runs for an image whose entry point fails at once.
CRASHING_COMMAND = [sys.executable, "-c", "import sys; print('cannot start: no entry point'); "
                    "sys.exit(3)"]
#: Added to every container's env: listening on loopback stands for the pod's own network.
LOOPBACK_ENV = {"WREN_LISTEN_HOST": "127.0.0.1"}
#: What a revision run as a plain process starts from instead of an image's environment.
PROCESS_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONUNBUFFERED": "1"}


SCHEMA_FILE = Path(__file__).parent / "schemas" / "knative-service-v1.yaml"
CLUSTER_LOCAL_DOMAIN = "svc.cluster.local"
#: Knative's defaults for the limits its webhook enforces (config-defaults, autoscaler).
MAX_REVISION_TIMEOUT, MAX_CONTAINER_CONCURRENCY, MAX_SCALE_DOWN_DELAY = 600, 1000, 3600
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


@functools.cache
def service_schema() -> dict[str, Any]:
    loaded = yaml.safe_load(SCHEMA_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def prune(value: Any, schema: Mapping[str, Any]) -> Any:
    """Drop the fields a structural schema does not declare, as the API server does."""
    if isinstance(value, dict) and schema.get("type") == "object":
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return value
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is not None:
            return {k: prune(v, properties[k]) for k, v in value.items() if k in properties}
        if isinstance(extra, dict):
            return {k: prune(v, extra) for k, v in value.items()}
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(item, schema["items"]) for item in value]
    return value


def _seconds(duration: str) -> float | None:
    """A Go duration such as `300s` or `5m` in seconds (None if it is not one)."""
    found = _DURATION.match(duration)
    if not duration or found is None:
        return None
    hours, minutes, seconds = (float(part or 0) for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _denied(problems: list[str]) -> ApiError:
    return ApiError(400, "BadRequest", 'admission webhook "validation.webhook.serving.'
                    'knative.dev" denied the request: validation failed: ' + "; ".join(problems))


def validate_service(body: dict[str, Any]) -> None:
    """The API server (the CRD's schema: types checked, unknown fields pruned in place), then
    Knative's validating admission webhook, for the fields wren sets."""
    schema = service_schema()
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path)
        raise ApiError(422, "Invalid", f'Service.serving.knative.dev "'
                       f'{(body.get("metadata") or {}).get("name")}" is invalid: {where}: '
                       f"{errors[0].message}")
    pruned = prune(body, schema)
    body.clear()
    body.update(pruned)
    spec = ((body.get("spec") or {}).get("template") or {}).get("spec") or {}
    annotations = (((body.get("spec") or {}).get("template") or {}).get("metadata") or {}
                   ).get("annotations") or {}
    problems = []
    containers = spec.get("containers") or []
    if len(containers) != 1:
        problems.append(f"expected exactly one, got {len(containers)}: "
                        "spec.template.spec.containers")
    elif not containers[0].get("image"):
        problems.append("missing field(s): spec.template.spec.containers[0].image")
    for field, top in (("containerConcurrency", MAX_CONTAINER_CONCURRENCY),
                       ("timeoutSeconds", MAX_REVISION_TIMEOUT)):
        value = spec.get(field)
        if value is not None and not (isinstance(value, int) and 0 <= value <= top):
            problems.append(f"expected 0 <= {value} <= {top}: spec.template.spec.{field}")
    for key in ("min-scale", "max-scale", "target"):
        value = annotations.get(f"autoscaling.knative.dev/{key}")
        if value is not None and not str(value).isdigit():
            problems.append(f"invalid value: {value}: spec.template.metadata.annotations."
                            f"autoscaling.knative.dev/{key}")
    delay = annotations.get("autoscaling.knative.dev/scale-down-delay")
    if delay is not None:
        seconds = _seconds(str(delay))
        if seconds is None or not 0 <= seconds <= MAX_SCALE_DOWN_DELAY or seconds % 1:
            problems.append(f"expected 0s <= {delay} <= 1h0m0s: spec.template.metadata."
                            "annotations.autoscaling.knative.dev/scale-down-delay")
    if problems:
        raise _denied(problems)


class KnativeServing:
    """Reconciles Knative Services of an `ObjectStore` into running revisions."""

    def __init__(self, store: ObjectStore, images: Mapping[str, Sequence[str]],
                 workdir: Path, domain: str = "example.com", ready_timeout: float = 120.0,
                 stop_grace: float = 30.0, registry: str | None = None,
                 http_protocol: str = "Enabled") -> None:
        self.store, self.workdir, self.domain = store, workdir, domain
        self.http_protocol = http_protocol
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self.images, self.registry = dict(images), registry
        self.ready_timeout, self.stop_grace = ready_timeout, stop_grace
        self._lock = threading.Lock()
        self._serving: dict[tuple[str, str], Container] = {}
        self._starting: list[Container] = []
        store.watchers.append(self._on_change)
        store.validators[KSERVICE.qualified] = validate_service

    # What the ingress and tests ask ---------------------------------------------------------
    def route(self, host: str, local: bool = False) -> Container | None:
        """The revision serving `host` at the public gateway (its external name only), or
        at the local gateway (`local`: every Service's cluster-local name)."""
        public = not host.endswith("." + CLUSTER_LOCAL_DOMAIN)
        with self._lock:
            for revision in self._serving.values():
                if (local and host == revision.labels["local_host"]) or \
                        (not local and public and host == revision.labels["host"]):
                    return revision
        return None

    def redirects(self, host: str) -> bool:
        """Whether the public gateway answers http requests for `host` with a redirect."""
        return self.http_protocol == "Redirected" and self.route(host) is not None

    def request_started(self, revision: Container) -> None:
        name = revision.labels["revision"]
        with self._lock:
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
            self._peak[name] = max(self._peak.get(name, 0), self._in_flight[name])

    def request_ended(self, revision: Container) -> None:
        with self._lock:
            self._in_flight[revision.labels["revision"]] -= 1

    def revisions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**r.describe(), "in_flight": self._in_flight.get(r.labels["revision"], 0),
                     "peak_in_flight": self._peak.get(r.labels["revision"], 0)}
                    for r in self._serving.values()]

    def shutdown(self) -> None:
        with self._lock:
            running = list(self._serving.values()) + self._starting
            self._serving.clear()
        for revision in running:
            revision.stop(5.0)

    # Reconciling ----------------------------------------------------------------------------
    def _on_change(self, event: str, kind: Kind, obj: dict[str, Any]) -> None:
        if kind != KSERVICE:
            return
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event == "DELETED":
            with self._lock:
                revision = self._serving.pop(key, None)
            if revision is not None:
                threading.Thread(target=revision.stop, args=(self.stop_grace,),
                                 daemon=True).start()
            return
        if (obj.get("status") or {}).get("observedGeneration") == meta["generation"]:
            return
        threading.Thread(target=self._reconcile, args=(obj,), daemon=True,
                         name=f"reconcile-{meta['name']}").start()

    def _status(self, obj: dict[str, Any], ready: str, reason: str = "", message: str = "",
                revision: str = "", serving: Container | None = None) -> dict[str, Any]:
        meta = obj["metadata"]
        conditions = []
        for kind in ("ConfigurationsReady", "Ready", "RoutesReady"):
            condition = {"type": kind, "status": ready, "lastTransitionTime": _now()}
            if reason and (kind != "RoutesReady" or serving is None):
                condition.update(reason=reason, message=message)
            if kind == "RoutesReady" and serving is not None:
                condition["status"] = "True"
            conditions.append(condition)
        status: dict[str, Any] = {"observedGeneration": meta["generation"],
                                  "conditions": conditions,
                                  "latestCreatedRevisionName": revision}
        if serving is not None:
            ready_name = serving.labels["revision"]
            host = serving.labels["host"]
            external = not host.endswith("." + CLUSTER_LOCAL_DOMAIN)
            scheme = "https" if external and self.http_protocol == "Redirected" else "http"
            status.update(
                url=f"{scheme}://{host}",
                address={"url": f"http://{serving.labels['local_host']}"},
                latestReadyRevisionName=ready_name,
                traffic=[{"revisionName": ready_name, "latestRevision": True,
                          "percent": 100}])
        return status

    def _reconcile(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        namespace, name, generation = meta["namespace"], meta["name"], meta["generation"]
        revision_name = f"{name}-{generation:05d}"
        with self._lock:
            previous = self._serving.get((namespace, name))
        self.store.set_status(KSERVICE, namespace, name, self._status(
            obj, "Unknown", "RevisionMissing", f'Configuration "{name}" is waiting for a '
            "Revision to become ready.", revision_name, previous), generation)
        try:
            revision = self._start(obj, revision_name)
        except ContainerFailed as failure:
            self.store.set_status(KSERVICE, namespace, name, self._status(
                obj, "False", "RevisionFailed", f'Revision "{revision_name}" failed with '
                f"message: {failure}.", revision_name, previous), generation)
            return
        with self._lock:
            self._starting.remove(revision)
            current = self.store.set_status(KSERVICE, namespace, name, self._status(
                obj, "True", revision=revision_name, serving=revision), generation)
            if current:
                self._serving[(namespace, name)] = revision
                revision.keep_running(self.ready_timeout)
        retired = previous if current else revision
        if retired is not None:
            threading.Thread(target=retired.stop, args=(self.stop_grace,), daemon=True).start()

    def _container_env(self, namespace: str, container: dict[str, Any]) -> dict[str, str]:
        try:
            return container_env(self.store, namespace, container)
        except LookupError as missing:
            raise ContainerFailed(f"CreateContainerConfigError: {missing}") from None

    def _start(self, obj: dict[str, Any], revision_name: str) -> Container:
        meta, spec = obj["metadata"], obj["spec"]["template"]["spec"]
        container = spec["containers"][0]
        image = container.get("image", "")
        registry = self.registry
        pulled = registry is not None and image.startswith(f"{registry}/") and \
            registry_has(registry, image)
        if image not in self.images and not pulled:
            raise ContainerFailed(f'Unable to fetch image "{image}": failed to resolve image '
                                  f"to digest: GET https://{image.split('/')[0]}/v2/: "
                                  "MANIFEST_UNKNOWN: manifest unknown")
        env = {**self._container_env(meta["namespace"], container),
               "K_SERVICE": meta["name"], "K_REVISION": revision_name,
               "K_CONFIGURATION": meta["name"], **LOOPBACK_ENV}
        # A cluster-local Service answers only to its cluster-local name, as Knative does.
        local = (meta.get("labels") or {}).get(VISIBILITY_LABEL) == "cluster-local"
        local_host = f"{meta['name']}.{meta['namespace']}.{CLUSTER_LOCAL_DOMAIN}"
        labels = {"namespace": meta["namespace"], "service": meta["name"],
                  "revision": revision_name, "local_host": local_host,
                  "host": local_host if local else
                  f"{meta['name']}.{meta['namespace']}.{self.domain}",
                  # the queue-proxy's limit on one request (revision-timeout-seconds: 300)
                  "timeout": str(spec.get("timeoutSeconds") or 300)}
        probe = ((container.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
        if pulled:
            revision = podman_container(labels, image, env, self.workdir, probe)
        else:  # a process does not get an image's environment: give it a minimal one
            revision = Container(labels, self.images[image], {
                **PROCESS_ENV, **env, "PORT": "{port}", "HOME": str(self.workdir)},
                self.workdir, probe, container_env=list(env))
        with self._lock:
            self._starting.append(revision)
        try:
            revision.start(self.ready_timeout)
        except ContainerFailed:
            revision.stop(1.0)
            with self._lock:
                self._starting.remove(revision)
            raise
        return revision

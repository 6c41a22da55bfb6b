"""What a wren runtime looks like on Knative: Service names, labels and the Service manifest.

One Knative Service per runtime image and memory size. Its name is derived from both (a
readable slug of the image, a short hash of it, and the memory), always a valid DNS label
short enough for Knative's revision names. Labels mark wren's runtimes so they can be listed
with a label selector; the exact image is kept in an annotation, because label values cannot
hold it. The template carries the pod's resources, `containerConcurrency`, the autoscaling
annotations, the runtime's Secret as environment (storage settings and the callers' bearer
token, see `runtime_auth`), and the digest of the storage settings, so a new storage config
rolls out a new revision. A `cluster-local` runtime carries Knative's visibility label, so
it gets no public route.

Work the autoscaler cannot see (a task sent async, or one that outlived its held request)
is protected twice: `autoscaling.knative.dev/scale-down-delay` (`scale_down_delay`) keeps
the revision's pods that long after its demand fell, and a pod told to stop (SIGTERM)
drains its running calls for `timeoutSeconds - 10` s: Knative sets the pod's
terminationGracePeriodSeconds to the revision's timeoutSeconds, so the drain ends, and the
runtime exits, before the kubelet's SIGKILL.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import attrs
from wren.__about__ import __version__ as wren_version
from wren.ports.compute import RuntimeEntry

from wren_backend_knative.runtime_auth import TOKEN_ENV, TOKEN_KEY

MANAGED_BY = "app.kubernetes.io/managed-by"
RUNTIME_LABEL = "wren.dev/runtime"
MEMORY_LABEL = "wren.dev/runtime-memory"
VERSION_LABEL = "wren.dev/wren-version"
IMAGE_ANNOTATION = "wren.dev/runtime-image"
STORAGE_ANNOTATION = "wren.dev/storage-digest"
#: Knative's label that keeps a Service off the public ingress (`cluster-local`).
VISIBILITY_LABEL = "networking.knative.dev/visibility"
CLUSTER_LOCAL = "cluster-local"
#: Selects every wren runtime Service in a namespace.
RUNTIME_SELECTOR = f"{MANAGED_BY}=wren,{RUNTIME_LABEL}=knative"
STORAGE_KEY = "storage-config"
READINESS_PATH = "/healthz"
CONTAINER_PORT = 8080
_SLUG_LENGTH = 34


def service_name(image: str, memory: int) -> str:
    """E.g. `wren-me-runtime-1-3f9a2c-256mb` for image `me/runtime:1` at 256 MB."""
    slug = re.sub(r"[^a-z0-9]+", "-", image.lower()).strip("-")[:_SLUG_LENGTH].strip("-")
    digest = hashlib.sha256(image.encode()).hexdigest()[:6]
    return f"wren-{slug}-{digest}-{memory}mb" if slug else f"wren-{digest}-{memory}mb"


def storage_secret_name(service: str) -> str:
    return f"{service}-storage"


def label_value(text: str) -> str:
    """`text` as a valid label value (at most 63 of [A-Za-z0-9._-], alphanumeric ends)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:63].strip("._-")


def cpu_quantity(vcpus: float) -> str:
    return f"{max(1, round(vcpus * 1000))}m"


@attrs.frozen
class RuntimeSpec:
    """Everything one runtime Service is made of."""

    image: str
    memory: int
    cpu: float
    timeout: int
    concurrency: int
    max_workers: int
    min_instances: int = 0
    storage_digest: str = ""
    pull_secret: str | None = None
    cluster_local: bool = False
    scale_down_delay: int = 0

    @property
    def name(self) -> str:
        return service_name(self.image, self.memory)

    @property
    def max_scale(self) -> int:
        """Pods needed for `max_workers` calls at once, `concurrency` per pod."""
        return max(1, math.ceil(self.max_workers / self.concurrency))

    def labels(self) -> dict[str, str]:
        return {MANAGED_BY: "wren", RUNTIME_LABEL: "knative",
                MEMORY_LABEL: str(self.memory), VERSION_LABEL: label_value(wren_version)}


def drain_seconds(timeout: int) -> int:
    """How long a stopping pod finishes its calls: its grace period (Knative makes it the
    revision's timeoutSeconds) less 10 s for the runtime to exit."""
    return max(1, timeout - 10)


def service_manifest(spec: RuntimeSpec) -> dict[str, Any]:
    """The `serving.knative.dev/v1` Service for `spec`."""
    resources = {"cpu": cpu_quantity(spec.cpu), "memory": f"{spec.memory}Mi"}
    env: list[dict[str, Any]] = [
        {"name": "WREN_RUNTIME_NAME", "value": spec.image},
        {"name": "WREN_WORKER_PROCESSES", "value": str(spec.concurrency)},
        {"name": "WREN_DRAIN_SECONDS", "value": str(drain_seconds(spec.timeout))},
        {"name": "WREN_STORAGE_CONFIG", "valueFrom": {"secretKeyRef": {
            "name": storage_secret_name(spec.name), "key": STORAGE_KEY}}},
        {"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": {
            "name": storage_secret_name(spec.name), "key": TOKEN_KEY}}},
    ]
    service_labels = spec.labels()
    if spec.cluster_local:
        service_labels[VISIBILITY_LABEL] = CLUSTER_LOCAL
    pod: dict[str, Any] = {
        "containerConcurrency": spec.concurrency,
        "timeoutSeconds": spec.timeout,
        "containers": [{
            "name": "wren-runtime",
            "image": spec.image,
            "ports": [{"containerPort": CONTAINER_PORT}],
            "env": env,
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            "readinessProbe": {"httpGet": {"path": READINESS_PATH}},
        }],
    }
    if spec.pull_secret:
        pod["imagePullSecrets"] = [{"name": spec.pull_secret}]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "labels": service_labels,
                     "annotations": {IMAGE_ANNOTATION: spec.image}},
        "spec": {"template": {
            "metadata": {
                "labels": spec.labels(),
                "annotations": {
                    "autoscaling.knative.dev/target": str(spec.concurrency),
                    "autoscaling.knative.dev/min-scale": str(spec.min_instances),
                    "autoscaling.knative.dev/max-scale": str(spec.max_scale),
                    "autoscaling.knative.dev/scale-down-delay": f"{spec.scale_down_delay}s",
                    STORAGE_ANNOTATION: spec.storage_digest,
                },
            },
            "spec": pod,
        }},
    }


def runtime_entry(service: dict[str, Any]) -> RuntimeEntry:
    """What `list_runtimes` shows for one runtime Service."""
    meta = service.get("metadata") or {}
    labels = meta.get("labels") or {}
    memory = labels.get(MEMORY_LABEL)
    return RuntimeEntry(name=(meta.get("annotations") or {}).get(IMAGE_ANNOTATION, "?"),
                        memory=int(memory) if memory and memory.isdigit() else None,
                        wren_version=labels.get(VERSION_LABEL, "?"),
                        worker_name=meta.get("name", "?"))


def is_current(service: dict[str, Any], spec: RuntimeSpec) -> bool:
    """Whether a deployed Service is what `spec` would deploy in the ways wren must keep:
    its container reads the callers' token from the Secret (Services deployed by a wren
    before runtimes authenticated callers do not), and its visibility is `spec`'s."""
    template = ((service.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = template.get("containers") or [{}]
    names = {item.get("name") for item in containers[0].get("env") or []}
    labels = (service.get("metadata") or {}).get("labels") or {}
    return TOKEN_ENV in names and \
        (labels.get(VISIBILITY_LABEL) == CLUSTER_LOCAL) == spec.cluster_local


def storage_digest_of(service: dict[str, Any]) -> str | None:
    template = ((service.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return (template.get("annotations") or {}).get(STORAGE_ANNOTATION)

"""The Kubernetes objects of one wren job: its Secret and its indexed `batch/v1` Job.

The Job runs `completions` pods of the runtime image, `parallelism` at once, with
`completionMode: Indexed`: Kubernetes gives each pod its `JOB_COMPLETION_INDEX`, which picks
its task from the job's sealed task list in storage (`WREN_TASKS` names it, without the key;
`wren.worker.array_task` runs it). The executor key and the storage credentials are in the
job's own Secret (`WREN_KEY`, `WREN_STORAGE_CONFIG` come from it), never in the Job. A failed pod is not retried
(`backoffLimitPerIndex: 0`, and `podFailurePolicy` fails its index on a disruption such as an
eviction or on any non-zero exit), so the client reports its calls with the pod's reason.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from wren.ports.runtime_probe import METADATA_ENV
from wren.worker.array_task import DEADLINE_ENV, KEY_ENV, PROCESSES_ENV
from wren.worker.storage_access import STORAGE_CONFIG_ENV

MANAGED_BY = "app.kubernetes.io/managed-by"
#: Label of the pods one client watches.
CLIENT_LABEL = "wren.dev/client"
#: Label telling task Jobs from runtime validations.
PURPOSE_LABEL = "wren.dev/purpose"
IMAGE_ANNOTATION = "wren.dev/image"
CONTAINER = "worker"
KEY_ENTRY, STORAGE_ENTRY = "executor-key", "storage-config"


def labels(client: str, purpose: str) -> dict[str, str]:
    return {MANAGED_BY: "wren", CLIENT_LABEL: client, PURPOSE_LABEL: purpose}


def secret_manifest(name: str, meta_labels: Mapping[str, str], key: bytes | None,
                    storage_config: Mapping[str, Any]) -> dict[str, Any]:
    data = {STORAGE_ENTRY: json.dumps(dict(storage_config), default=str)}
    if key is not None:
        data[KEY_ENTRY] = base64.b64encode(key).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "labels": dict(meta_labels)}, "stringData": data}


def pull_secret_manifest(name: str, server: str, user: str, password: str) -> dict[str, Any]:
    registry = "https://index.docker.io/v1/" if server in ("docker.io", "index.docker.io") \
        else server
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    login = {"auths": {registry: {"username": user, "password": password, "auth": auth}}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "labels": {MANAGED_BY: "wren"}},
            "stringData": {".dockerconfigjson": json.dumps(login)}}


def _secret_env(name: str, secret: str, entry: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": entry}}}


def job_manifest(name: str, image: str, completions: int, config: Mapping[str, Any],
                 meta_labels: Mapping[str, str], env: Mapping[str, str],
                 pull_secrets: list[str]) -> dict[str, Any]:
    """The Job `name`: `completions` indexed pods of `image` with `env` and the Secret `name`."""
    memory, cpu = f"{int(config['runtime_memory'])}Mi", f"{float(config['runtime_cpu']):g}"
    container: dict[str, Any] = {
        "name": CONTAINER, "image": image, "imagePullPolicy": "IfNotPresent",
        "env": [{"name": k, "value": v} for k, v in {
            DEADLINE_ENV: str(int(config["runtime_timeout"])),
            PROCESSES_ENV: str(int(config.get("worker_processes") or 1)), **env}.items()] + [
            _secret_env(STORAGE_CONFIG_ENV, name, STORAGE_ENTRY)] + (
            [_secret_env(KEY_ENV, name, KEY_ENTRY)] if METADATA_ENV not in env else []),
        "resources": {"requests": {"memory": memory, "cpu": cpu},
                      "limits": {"memory": memory, "cpu": cpu}}}
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container],
                           "activeDeadlineSeconds": int(config["runtime_timeout"]),
                           "automountServiceAccountToken": False}
    optional = {"serviceAccountName": config.get("service_account"),
                "nodeSelector": config.get("node_selector"),
                "tolerations": config.get("tolerations"),
                "imagePullSecrets": [{"name": s} for s in pull_secrets] or None}
    pod.update({k: v for k, v in optional.items() if v})
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": dict(meta_labels),
                     "annotations": {IMAGE_ANNOTATION: image}},
        "spec": {
            "completionMode": "Indexed", "completions": completions,
            "parallelism": max(1, min(completions, int(config["max_workers"]))),
            "backoffLimitPerIndex": 0, "ttlSecondsAfterFinished": int(config["job_ttl"]),
            "podFailurePolicy": {"rules": [
                {"action": "FailIndex",
                 "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                {"action": "FailIndex",
                 "onExitCodes": {"containerName": CONTAINER, "operator": "NotIn",
                                 "values": [0]}}]},
            "template": {"metadata": {"labels": dict(meta_labels)}, "spec": pod}}}

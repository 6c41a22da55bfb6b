"""`RuntimeKeeper`: the Jobs and Secrets wren starts, and the runtimes it has validated.

`start_job` writes a job's Secret (the storage credentials and, for task Jobs, the executor
key), creates the Job, and makes the Secret the Job's own; what a retried attempt finds
already there is kept. Deploying a runtime validates its image: a one-pod Job runs the image's
metadata entry, which writes wren's runtime metadata to storage under
`wren.runtimes/k8s/`; `list` and `info` read it back there (as data, validated). `clean`
deletes wren's finished Jobs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from wren.cache import RuntimeInfoCache
from wren.ports.compute import RuntimeEntry, WorkerStorage
from wren.ports.runtime_probe import METADATA_ENV, MetadataTarget, await_metadata
from wren.ports.storage import StorageBackend
from wren.protocol.runtime import RuntimeInfo
from wren.worker.storage_access import open_storage

from wren_backend_k8s import manifest as mf
from wren_backend_k8s.cluster import Cluster
from wren_backend_k8s.errors import K8sError
from wren_backend_k8s.pods import failure_reason

logger = logging.getLogger("wren")
PREFIX = "wren.runtimes/k8s/"
#: This process's cache of runtime metadata, shared by every `k8s` backend.
cache = RuntimeInfoCache()


def metadata_key(image: str) -> str:
    return f"{PREFIX}{hashlib.sha256(image.encode()).hexdigest()[:20]}.json"


def _finished(job: Any) -> str | None:
    """`Complete` or `Failed` once the Job has ended, else None."""
    for condition in (job.status.conditions if job.status else None) or []:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            return str(condition.type)
    return None


class RuntimeKeeper:
    """wren's objects in one namespace, made with one client's settings."""

    def __init__(self, cluster: Cluster, config: Mapping[str, Any], storage: WorkerStorage,
                 client: str) -> None:
        self.cluster, self.config, self.worker_storage = cluster, config, storage
        self.client = client
        self._storage: StorageBackend | None = None
        self._pull: list[str] | None = None

    @property
    def storage(self) -> StorageBackend:
        if self._storage is None:
            ws = self.worker_storage
            self._storage = open_storage(ws.backend, ws.public_config, ws.config)
        return self._storage

    @property
    def bucket(self) -> str:
        return str(self.worker_storage.config.get("storage_bucket")
                   or self.storage.default_bucket)

    def pull_secrets(self) -> list[str]:
        """The image-pull Secrets of the pods; wren's own is written once per client."""
        if self._pull is None:
            names = [str(n) for n in self.config.get("image_pull_secrets") or []]
            user, password = self.config.get("docker_user"), self.config.get("docker_password")
            if user and password:
                server = str(self.config.get("docker_server") or "docker.io")
                name = "wren-registry-" + hashlib.sha256(
                    f"{server}/{user}".encode()).hexdigest()[:10]
                body = mf.pull_secret_manifest(name, server, user, password)
                if self.cluster.get_secret(name) is None:
                    self.cluster.create_secret(body)
                else:
                    self.cluster.replace_secret(name, body)
                names.append(name)
            self._pull = names
        return self._pull

    def start_job(self, name: str, image: str, count: int, purpose: str,
                  env: dict[str, str], key: bytes | None,
                  config: Mapping[str, Any] | None = None) -> Any:
        labels = mf.labels(self.client, purpose)
        secret = mf.secret_manifest(name, labels, key, self.worker_storage.config)
        try:
            self.cluster.create_secret(secret)
        except K8sError as exc:
            if getattr(exc.__cause__, "status", None) != 409:
                raise
        body = mf.job_manifest(name, image, count, config or self.config, labels, env,
                               self.pull_secrets())
        try:
            job = self.cluster.create_job(body)
        except K8sError as exc:
            if getattr(exc.__cause__, "status", None) != 409:
                raise
            job = self.cluster.read_job(name)
        self.cluster.own_secret(name, job)
        return job

    # Runtimes -----------------------------------------------------------------------------
    def _identity(self, image: str) -> str:
        ws = self.worker_storage
        return json.dumps([image, self.bucket, ws.backend, dict(ws.public_config)],
                          sort_keys=True, default=str)

    def _read(self, image: str) -> RuntimeInfo | None:
        try:
            raw = self.storage.get_object(self.bucket, metadata_key(image))
        except KeyError:
            return None
        return RuntimeInfo.decode(raw, image)

    def info(self, image: str) -> RuntimeInfo:
        """The runtime's metadata, validating the image first if it never was."""
        return cache.get("k8s", self._identity(image),
                         lambda: self._read(image) or self._validate(image))

    def deploy(self, image: str, memory: int | None = None,
               timeout: int | None = None) -> RuntimeEntry:
        """Validate the image and record what it says about itself (`timeout` is not the
        runtime's: each Job's pods get `runtime_timeout`)."""
        info = self._validate(image, memory)
        return RuntimeEntry(image, None, info.wren_version, metadata_key(image))

    def _validate(self, image: str, memory: int | None = None) -> RuntimeInfo:
        """Run the image's metadata entry in a one-pod Job and wait for what it records."""
        config = {**self.config, "max_workers": 1}
        if memory:
            config["runtime_memory"] = int(memory)
        name = f"wren-validate-{uuid.uuid4().hex[:12]}"
        target = MetadataTarget.of(self.worker_storage, self.bucket, metadata_key(image))
        self.storage.delete_object(target.bucket, target.key)  # a stale record is no answer
        self.start_job(name, image, 1, "validate", {METADATA_ENV: target.to_env(),
                                                    "WREN_RUNTIME_NAME": image}, None, config)
        try:
            info = await_metadata(self.storage, target, image,
                                  timeout=float(self.config["deploy_timeout"]),
                                  failure=lambda: self._failure(name, target.key),
                                  where=f"Job {self.cluster.namespace}/{name}")
        finally:
            self.cluster.delete_job(name)
        cache.forget("k8s", self._identity(image))
        logger.info("k8s: validated runtime %s (Python %s, wren %s)", image,
                    info.python_version, info.wren_version)
        return info

    def _failure(self, name: str, key: str) -> str | None:
        """Why validation Job `name` can no longer write the metadata, or None."""
        job = self.cluster.read_job(name)
        ended = _finished(job) if job is not None else "Failed"
        pods = self.cluster.call("list pods", self.cluster.core.list_namespaced_pod,
                                 self.cluster.namespace, label_selector=f"job-name={name}")
        serialize = self.cluster.api_client.sanitize_for_serialization
        reasons = [r for r in (failure_reason(serialize(p)) for p in pods.items) if r]
        if reasons or ended == "Failed":
            return "; ".join(reasons) or "its validation Job failed"
        if ended == "Complete" and not self.storage.exists(self.bucket, key):
            return ("its validation Job completed without writing the metadata: is it a wren "
                    "k8s runtime? Build it with `wren runtime build -b k8s`")
        return None

    def delete(self, image: str, memory: int | None = None) -> None:
        self.storage.delete_object(self.bucket, metadata_key(image))
        cache.forget("k8s", self._identity(image))

    def list(self) -> list[RuntimeEntry]:
        entries = []
        for key in self.storage.list_keys(self.bucket, PREFIX):
            info = RuntimeInfo.decode(self.storage.get_object(self.bucket, key))
            entries.append(RuntimeEntry(info.name, None, info.wren_version, key))
        return sorted(entries, key=lambda e: e.name)

    def clean(self) -> int:
        done = [job.metadata.name for job in self.cluster.list_jobs(f"{mf.MANAGED_BY}=wren")
                if _finished(job)]
        return sum(self.cluster.delete_job(name) for name in done)

"""Runtimes of `code_engine`: one Code Engine job definition per image, size and credentials.

A job definition (`job_name`) runs an image with a vCPU/memory combination, the job's time
limit and no platform retries (wren retries what a crashed worker left, `wren.worker.pool`).
Its environment comes from two secrets of the project, never from a payload or storage:
`wren-storage-<digest>` holds the workers' storage settings (`WREN_STORAGE_CONFIG`, created at
deploy), and each job run adds `WREN_KEY` from `wren-key-<digest>`, the secret holding its
executor's key (`key_secret`). `ensure` checks a definition once per process and deploys it
when missing; `info` starts a one-instance job run that writes the runtime's metadata to
storage (`wren.ports.runtime_probe`), reads it and caches it in `wren.cache`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from wren.__about__ import __version__ as wren_version
from wren.cache import RuntimeInfoCache
from wren.ports import RuntimeEntry, RuntimeInfo, StorageBackend, WorkerStorage
from wren.ports.runtime_probe import METADATA_ENV, MetadataTarget, await_metadata
from wren.protocol.invocation import encode_key
from wren.worker.array_task import DEADLINE_ENV, KEY_ENV, PROCESSES_ENV, TASKS_ENV

from wren_backend_ibmcf.code_engine.api import CodeEngineApi, CodeEngineError

__all__ = ["KEY_ENV", "TASKS_ENV", "RuntimeManager", "memory_limit", "memory_of"]

#: Set on a job definition: the wren version it was deployed by.
VERSION_ENV = "WREN_VERSION"
_UNSAFE = re.compile(r"[^a-z0-9]+")
_metadata = RuntimeInfoCache()
_verified: set[tuple[str, str]] = set()
_lock = threading.Lock()


def _digest(*parts: Any, size: int = 10) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:size]


def memory_limit(memory: int) -> str:
    """Code Engine's notation for `memory` MB (`0.25G`, `4G`)."""
    return f"{memory / 1024:g}G"


def memory_of(limit: str) -> int | None:
    """MB of a Code Engine memory limit (`0.25G`, `512M`, `4Gi`), None if unreadable."""
    found = re.fullmatch(r"([0-9.]+)\s*([GM])i?", str(limit or ""))
    if not found:
        return None
    value = float(found.group(1))
    return round(value * 1024) if found.group(2) == "G" else round(value)


class RuntimeManager:
    """Job definitions of one project for one set of worker storage credentials."""

    def __init__(self, api: CodeEngineApi, project_id: str, storage: Mapping[str, Any], *,
                 cpu: float, timeout: int, registry_secret: str | None,
                 processes: int) -> None:
        self.api, self.project_id = api, project_id
        self.cpu, self.timeout, self.processes = cpu, timeout, processes
        self.registry_secret = registry_secret
        self.storage_secret_data = {"WREN_STORAGE_CONFIG": json.dumps(dict(storage))}
        self.storage_secret = f"wren-storage-{_digest(self.storage_secret_data)}"
        self._keys: set[str] = set()
        self._keys_lock = threading.Lock()

    def job_name(self, image: str, memory: int) -> str:
        """The definition of `image` with `memory` MB for these credentials and this wren."""
        slug = _UNSAFE.sub("-", image.rsplit("/", 1)[-1].lower()).strip("-")[:24]
        digest = _digest(image, self.storage_secret, wren_version, self.cpu, self.timeout)
        return f"wren-{slug}-{memory}m-{digest}".replace("--", "-")

    # Secrets ------------------------------------------------------------------------------
    def _put_secret(self, name: str, data: Mapping[str, str]) -> None:
        """Create secret `name`; one that exists holds the same data (its name is a digest
        of it), so 409 is success."""
        try:
            self.api.manage("create_secret", self.project_id, "generic", name, data=dict(data))
        except CodeEngineError as exc:
            if "HTTP 409" not in str(exc):
                raise

    def key_secret(self, key: bytes) -> str:
        """The secret holding an executor's key (created once per key); job runs read
        `WREN_KEY` from it, so the key never enters storage or a job run's literal env."""
        name = f"wren-key-{hashlib.sha256(key).hexdigest()[:16]}"
        with self._keys_lock:
            if name not in self._keys:
                self._put_secret(name, {KEY_ENV: encode_key(key)})
                self._keys.add(name)
        return name

    def forget_keys(self) -> None:
        """Delete the key secrets this client created (its job runs have ended)."""
        for name in sorted(self._keys):
            self.api.manage("delete_secret", self.project_id, name, missing_ok=True)
        self._keys.clear()

    # Job definitions ----------------------------------------------------------------------
    def _definition(self, image: str, memory: int, timeout: int) -> dict[str, Any]:
        env = [{"type": "secret_full_reference", "reference": self.storage_secret},
               {"type": "literal", "name": VERSION_ENV, "value": wren_version},
               {"type": "literal", "name": DEADLINE_ENV, "value": str(timeout)},
               {"type": "literal", "name": PROCESSES_ENV, "value": str(self.processes)}]
        return {"image_reference": image, "image_secret": self.registry_secret,
                "run_env_variables": env, "run_mode": "task", "scale_array_spec": "0",
                "scale_cpu_limit": f"{self.cpu:g}", "scale_memory_limit": memory_limit(memory),
                "scale_max_execution_time": timeout, "scale_retry_limit": 0}

    def deploy(self, image: str, memory: int, timeout: int | None = None) -> RuntimeEntry:
        """Create (or update) the job definition of `image` with `memory` MB."""
        name = self.job_name(image, memory)
        self._put_secret(self.storage_secret, self.storage_secret_data)
        body = self._definition(image, memory, int(timeout or self.timeout))
        found = self.api.manage("get_job", self.project_id, name, missing_ok=True)
        if found is None:
            self.api.manage("create_job", self.project_id, image, name,
                            **{k: v for k, v in body.items() if k != "image_reference"})
        else:
            self.api.manage("update_job", self.project_id, name,
                            str(found.get("entity_tag") or "*"), body)
        _metadata.forget("code_engine", name)
        with _lock:
            _verified.add((self.project_id, name))
        return RuntimeEntry(image, memory, wren_version, name)

    def ensure(self, image: str, memory: int) -> str:
        """The job definition's name, deployed when this process has not seen it yet."""
        name = self.job_name(image, memory)
        if (self.project_id, name) in _verified:
            return name
        if self.api.manage("get_job", self.project_id, name, missing_ok=True) is None:
            self.deploy(image, memory)
        with _lock:
            _verified.add((self.project_id, name))
        return name

    def list(self) -> list[RuntimeEntry]:
        entries = []
        for job in self.api.pages("list_jobs", self.project_id):
            env = {e.get("name"): e.get("value") for e in job.get("run_env_variables") or []}
            if not str(job.get("name", "")).startswith("wren-") or VERSION_ENV not in env:
                continue
            entries.append(RuntimeEntry(str(job.get("image_reference")),
                                        memory_of(job.get("scale_memory_limit", "")),
                                        str(env[VERSION_ENV]), str(job["name"])))
        return sorted(entries, key=lambda e: (e.name, e.memory or 0))

    def delete(self, image: str, memory: int | None = None) -> None:
        for entry in self.list():
            if entry.name == image and memory in (None, entry.memory):
                self.api.manage("delete_job", self.project_id, entry.worker_name,
                                missing_ok=True)
                _metadata.forget("code_engine", entry.worker_name)
                with _lock:
                    _verified.discard((self.project_id, entry.worker_name))

    # Metadata -----------------------------------------------------------------------------
    def info(self, image: str, memory: int, storage: StorageBackend,
             where: WorkerStorage, wait: float) -> RuntimeInfo:
        """What the runtime offers, read from a run of it once, then cached."""
        name = self.ensure(image, memory)
        return _metadata.get("code_engine", name,
                             lambda: self._probe(name, image, storage, where, wait))

    def _probe(self, name: str, image: str, storage: StorageBackend, where: WorkerStorage,
               wait: float) -> RuntimeInfo:
        key = f"wren.runtimes/code_engine/{name}-{uuid.uuid4().hex[:8]}.json"
        target = MetadataTarget.of(where, storage.default_bucket, key)
        env = [{"type": "literal", "name": METADATA_ENV, "value": target.to_env()}]
        run = str((self.api.manage("create_job_run", self.project_id, job_name=name,
                                   scale_array_spec="0", run_env_variables=env) or {})
                  .get("name", ""))

        def failure() -> str | None:
            state = self.api.manage("get_job_run", self.project_id, run, missing_ok=True) or {}
            return (f"its metadata job run failed ({state.get('status_details')})"
                    if state.get("status") == "failed" else None)

        try:
            return await_metadata(storage, target, image, timeout=wait, failure=failure,
                                  interval=1.0, where=f"job run {run}; see `ibmcloud ce "
                                                      f"jobrun logs -n {run}`")
        finally:
            storage.delete_object(target.bucket, target.key)

"""What a queue consumer needs to run, and how it travels: environment variables.

`ConsumerSettings` is built on the client from the config sections (`for_runtime`) and read
back in the container (`from_env`). The plain part becomes ordinary environment variables of
the Container App; the credentials (the queue's connection string and the storage config)
become Container App secrets that the container sees as environment variables too, so they
never appear in a message, a task or a blob.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import attrs
from wren.ports.compute import WorkerStorage
from wren.worker.storage_access import STORAGE_CONFIG_ENV

from wren_backend_azure.clients import connection_string
from wren_backend_azure.config import COMPUTE_SCHEMA

QUEUE = "WREN_AZURE_QUEUE"
QUEUE_CONNECTION = "WREN_AZURE_QUEUE_CONNECTION"
STORAGE_BACKEND = "WREN_STORAGE_BACKEND"
RUNTIME = "WREN_RUNTIME_NAME"
RUNTIME_TIMEOUT = "WREN_RUNTIME_TIMEOUT"
MAX_DEQUEUE = "WREN_MAX_DEQUEUE_COUNT"
VISIBILITY_MARGIN = "WREN_VISIBILITY_MARGIN"
PROCESSES = "WREN_WORKER_PROCESSES"
MESSAGE_LEASE = "WREN_MESSAGE_LEASE"
GRACE_PERIOD = "WREN_GRACE_PERIOD"

#: Secret name (Container Apps: lowercase letters, digits, hyphens) of each secret variable.
SECRET_NAMES = {QUEUE_CONNECTION: "queue-connection", STORAGE_CONFIG_ENV: "storage-config"}


def _default(name: str) -> Any:
    key = COMPUTE_SCHEMA.get(name)
    assert key is not None
    return key.default


@attrs.frozen
class ConsumerSettings:
    """Everything one runtime's consumers read from their environment."""

    queue: str
    queue_connection: str
    storage_backend: str
    storage_config: Mapping[str, Any]
    runtime: str
    runtime_timeout: float
    max_dequeue_count: int
    visibility_margin: float
    processes: int
    message_lease: float = 60.0
    grace_period: int = 600

    @classmethod
    def for_runtime(cls, compute: Mapping[str, Any], storage: WorkerStorage, queue: str,
                    runtime: str, timeout: float | None = None) -> ConsumerSettings:
        """Settings from an `azure_containers` section (defaults filled in here)."""
        config = COMPUTE_SCHEMA.validate(compute)
        return cls(queue=queue, queue_connection=connection_string(storage.config),
                   storage_backend=storage.backend, storage_config=dict(storage.config),
                   runtime=runtime, runtime_timeout=float(timeout or config["runtime_timeout"]),
                   max_dequeue_count=config["max_dequeue_count"],
                   visibility_margin=config["visibility_margin"],
                   processes=config["worker_processes"],
                   message_lease=config["message_lease"],
                   grace_period=config["termination_grace_period"])

    def plain_env(self) -> dict[str, str]:
        return {QUEUE: self.queue, STORAGE_BACKEND: self.storage_backend, RUNTIME: self.runtime,
                RUNTIME_TIMEOUT: f"{self.runtime_timeout:g}",
                MAX_DEQUEUE: str(self.max_dequeue_count),
                VISIBILITY_MARGIN: f"{self.visibility_margin:g}", PROCESSES: str(self.processes),
                MESSAGE_LEASE: f"{self.message_lease:g}", GRACE_PERIOD: str(self.grace_period)}

    def secret_env(self) -> dict[str, str]:
        return {QUEUE_CONNECTION: self.queue_connection,
                STORAGE_CONFIG_ENV: json.dumps(dict(self.storage_config), sort_keys=True)}

    def environ(self) -> dict[str, str]:
        """Every variable a consumer process needs (plain and secret)."""
        return {**self.plain_env(), **self.secret_env()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConsumerSettings:
        env = os.environ if environ is None else environ
        missing = [name for name in (QUEUE, QUEUE_CONNECTION, STORAGE_BACKEND, STORAGE_CONFIG_ENV)
                   if not env.get(name)]
        if missing:
            raise RuntimeError(f"the wren Azure consumer needs the environment variables "
                               f"{', '.join(missing)}; a Container App deployed by `wren "
                               "runtime deploy` sets them")
        return cls(queue=env[QUEUE], queue_connection=env[QUEUE_CONNECTION],
                   storage_backend=env[STORAGE_BACKEND],
                   storage_config=json.loads(env[STORAGE_CONFIG_ENV]),
                   runtime=env.get(RUNTIME, "unknown"),
                   runtime_timeout=float(env.get(RUNTIME_TIMEOUT) or _default("runtime_timeout")),
                   max_dequeue_count=int(env.get(MAX_DEQUEUE) or _default("max_dequeue_count")),
                   visibility_margin=float(env.get(VISIBILITY_MARGIN)
                                           or _default("visibility_margin")),
                   processes=int(env.get(PROCESSES) or _default("worker_processes")),
                   message_lease=float(env.get(MESSAGE_LEASE) or _default("message_lease")),
                   grace_period=int(env.get(GRACE_PERIOD)
                                    or _default("termination_grace_period")))

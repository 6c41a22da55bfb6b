"""Open the configured adapters for a verb, the way `FunctionExecutor` does, without starting
any job machinery: the storage backend, and a compute backend whose workers get that storage."""

from __future__ import annotations

from typing import Any

from wren import plugins
from wren.config import WrenConfig
from wren.ports import ComputeBackend, StorageBackend, WorkerStorage


def open_storage(config: WrenConfig) -> StorageBackend:
    storage: StorageBackend = plugins.storage_backend_class(config.storage_backend)(
        config.storage)
    return storage


def open_compute(config: WrenConfig) -> ComputeBackend:
    storage_cls: Any = plugins.storage_backend_class(config.storage_backend)
    worker_storage = WorkerStorage(config.storage_backend, dict(config.storage),
                                   storage_cls.config_schema.public(config.storage))
    compute: ComputeBackend = plugins.compute_backend_class(config.compute_backend)(
        config.compute, worker_storage)
    return compute

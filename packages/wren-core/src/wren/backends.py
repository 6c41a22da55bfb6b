"""Open the configured adapters: the storage backend, and a compute backend whose workers
get that storage. `FunctionExecutor` and the `wren` command both go through here, so the
credentials handed to compute adapters are assembled in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wren import plugins
from wren.config.loader import WrenConfig
from wren.ports.compute import ComputeBackend, WorkerStorage
from wren.ports.storage import StorageBackend


def open_storage(config: WrenConfig) -> StorageBackend:
    """The configured storage backend (its `default_bucket` is wren's bucket)."""
    storage: StorageBackend = plugins.storage_backend_class(config.storage_backend)(
        config.storage)
    return storage


def worker_storage(config: WrenConfig,
                   private: Mapping[str, Any] | None = None) -> WorkerStorage:
    """What workers need to reach storage: the full config (secrets included, plus any
    `private` extras such as monitoring services) and its public part for payloads."""
    storage_cls: Any = plugins.storage_backend_class(config.storage_backend)
    return WorkerStorage(config.storage_backend,
                         dict(private) if private is not None else dict(config.storage),
                         storage_cls.config_schema.public(config.storage))


def open_compute(config: WrenConfig, workers: WorkerStorage | None = None) -> ComputeBackend:
    """The configured compute backend, its workers given `workers` (default: the storage)."""
    compute: ComputeBackend = plugins.compute_backend_class(config.compute_backend)(
        config.compute, workers if workers is not None else worker_storage(config))
    return compute

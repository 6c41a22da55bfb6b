"""The contract suites of `wren.testing.contract`, bound to the backends `wren verify` names.

`wren verify` runs this module with pytest. The compute and storage backend names come from
the environment (`WREN_VERIFY_BACKEND`, `WREN_VERIFY_STORAGE`), the configuration from the
usual files (and `WREN_CONFIG_FILE`). Every suite of `wren.testing.contract` is bound: storage,
Storage API and partitioner on the storage (they write under a random prefix of its default
bucket and remove what they wrote), serializer on the configured serializer, and executor,
compute, data processing and worker failures on the pair; the worker-failure suite runs only
on backends that supervise their calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from wren import plugins
from wren.backends import open_storage
from wren.config import load_config
from wren.ports import Serializer, StorageBackend, capabilities
from wren.testing.contract import (
    ComputeBackendContract,
    DataProcessingContract,
    ExecutorContract,
    MakeExecutor,
    PartitionerContract,
    SerializerContract,
    StorageApiContract,
    StorageBackendContract,
    WorkerFailureContract,
)

BACKEND_ENV = "WREN_VERIFY_BACKEND"
STORAGE_ENV = "WREN_VERIFY_STORAGE"


def _names() -> tuple[str | None, str | None]:
    return os.environ.get(BACKEND_ENV) or None, os.environ.get(STORAGE_ENV) or None


class StorageBinding:
    """The storage suites' fixtures: the configured storage and its default bucket."""

    @pytest.fixture
    def storage(self) -> Iterator[StorageBackend]:
        backend, storage = _names()
        opened = open_storage(load_config(backend=backend, storage=storage))
        yield opened
        opened.close()

    @pytest.fixture
    def bucket(self, storage: StorageBackend) -> str:
        return storage.default_bucket


class ExecutorBinding:
    """The executor suites' fixture: executors for the configured backends."""

    @pytest.fixture
    def make_executor(self) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            backend, storage = _names()
            return wren.FunctionExecutor(backend=backend, storage=storage, **overrides)

        return make


class TestStorage(StorageBinding, StorageBackendContract):
    pass


class TestStorageApi(StorageBinding, StorageApiContract):
    pass


class TestPartitioner(StorageBinding, PartitionerContract):
    pass


class TestSerializer(SerializerContract):
    @pytest.fixture
    def serializer(self) -> Serializer:
        backend, storage = _names()
        name = load_config(backend=backend, storage=storage).wren["serializer"]
        serializer: Serializer = plugins.serializer_class(name)()
        return serializer


class TestExecutor(ExecutorBinding, ExecutorContract):
    pass


class TestCompute(ExecutorBinding, ComputeBackendContract):
    pass


class TestDataProcessing(ExecutorBinding, DataProcessingContract):
    pass


class TestWorkerFailures(ExecutorBinding, WorkerFailureContract):
    @pytest.fixture(autouse=True)
    def _supervised(self, make_executor: MakeExecutor) -> None:
        with make_executor() as fexec:
            if not fexec.compute.supports(capabilities.SUPERVISES_CALLS):
                pytest.skip(f"backend {fexec.backend!r} does not supervise its calls")

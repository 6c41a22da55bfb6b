"""The contract suites against the embedded `localhost` compute and storage adapters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing.contract import (
    DataProcessingContract,
    ExecutorContract,
    PartitionerContract,
    StorageApiContract,
    StorageBackendContract,
    WorkerFailureContract,
)
from wren_backend_local import LocalhostStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalhostStorage:
    return LocalhostStorage({"storage_dir": str(tmp_path / "storage")})


@pytest.fixture
def bucket(storage: LocalhostStorage) -> str:
    storage.create_bucket("contract")
    return "contract"


class TestLocalhostStorage(StorageBackendContract):
    pass


class TestLocalhostStorageApi(StorageApiContract):
    pass


class TestLocalhostPartitioner(PartitionerContract):
    pass


@pytest.fixture
def make_executor(tmp_path: Path) -> Callable[..., wren.FunctionExecutor]:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                     storage_dir=str(tmp_path / "storage"),
                                     worker_processes=2, **overrides)

    return make


class TestLocalhostExecutor(ExecutorContract):
    pass


class TestLocalhostWorkerFailures(WorkerFailureContract):
    pass


class TestLocalhostDataProcessing(DataProcessingContract):
    pass

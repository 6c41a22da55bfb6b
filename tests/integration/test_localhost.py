"""The contract suites against the embedded `localhost` compute and storage adapters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.ports import InvocationListener
from wren.protocol.invocation import Invocation
from wren.testing.contract import (
    ComputeBackendContract,
    ComputeHarness,
    DataProcessingContract,
    ExecutorContract,
    HostileStorageContract,
    MakeExecutor,
    PartitionerContract,
    StorageApiContract,
    StorageBackendContract,
    WorkerFailureContract,
)
from wren_backend_local import LocalhostStorage


class LocalStorage:
    """The storage binding: a fresh storage directory and bucket per test."""

    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalhostStorage:
        return LocalhostStorage({"storage_dir": str(tmp_path / "storage")})

    @pytest.fixture
    def bucket(self, storage: LocalhostStorage) -> str:
        storage.create_bucket("contract")
        return "contract"


class TestLocalhostStorage(LocalStorage, StorageBackendContract):
    pass


class TestLocalhostStorageApi(LocalStorage, StorageApiContract):
    pass


class TestLocalhostPartitioner(LocalStorage, PartitionerContract):
    pass


class LocalExecutor:
    """The executor binding: two warm worker processes, storage in the test's directory."""

    @pytest.fixture
    def make_executor(self, tmp_path: Path) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                         storage_dir=str(tmp_path / "storage"),
                                         worker_processes=2, **overrides)

        return make


class TestLocalhostExecutor(LocalExecutor, ExecutorContract):
    pass


class TestLocalhostWorkerFailures(LocalExecutor, WorkerFailureContract):
    pass


class TestLocalhostDataProcessing(LocalExecutor, DataProcessingContract):
    pass


class TestLocalhostCompute(LocalExecutor, ComputeBackendContract):
    pass


class TestLocalhostHostileStorage(LocalExecutor, HostileStorageContract):
    """A pre-created foreign storage directory: packages/wren-backend-local/tests/
    test_private_storage.py."""


@pytest.mark.timeout(120)
def test_the_compute_contract_catches_an_invoke_that_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter whose `invoke` waits until its tasks have reported must fail the check."""
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path / "storage"),
                               worker_processes=2) as fexec:
        config = fexec.config
    harness = ComputeHarness.open(config)
    invoke = harness.compute.invoke

    def blocking_invoke(invocations: Sequence[Invocation],
                        listener: InvocationListener) -> None:
        recorder = harness.listener()
        invoke(invocations, recorder)
        harness.await_reports([i.task for i in invocations], recorder, 60)
        for document in recorder.pushed:
            listener.status_pushed(document.seal(harness.key))

    monkeypatch.setattr(harness.compute, "invoke", blocking_invoke)
    try:
        with pytest.raises(AssertionError, match="invoke took .* it must hand the tasks over"):
            ComputeBackendContract().test_invoke_returns_while_the_tasks_still_run(harness)
    finally:
        harness.close()

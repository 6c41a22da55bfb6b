"""Every contract suite of `wren.testing.contract`, bound to compute `subprocess` (with
`localhost` storage in the test's directory): each binding is a few lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing.contract import (
    ComputeBackendContract,
    DataProcessingContract,
    ExecutorContract,
    MakeExecutor,
    WorkerFailureContract,
)


class SubprocessExecutor:
    """The executor binding: compute `subprocess`, storage `localhost` under `tmp_path`."""

    @pytest.fixture
    def make_executor(self, tmp_path: Path) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="subprocess", storage="localhost",
                                         storage_dir=str(tmp_path / "storage"), **overrides)

        return make


class TestSubprocessExecutor(SubprocessExecutor, ExecutorContract):
    pass


class TestSubprocessWorkerFailures(SubprocessExecutor, WorkerFailureContract):
    pass


class TestSubprocessDataProcessing(SubprocessExecutor, DataProcessingContract):
    pass


class TestSubprocessCompute(SubprocessExecutor, ComputeBackendContract):
    pass

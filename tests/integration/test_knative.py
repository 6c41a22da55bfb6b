"""The contract suites against `knative` compute, end to end.

The cluster is the Kubernetes API test double (tests/doubles/kube_api.py); the runtimes it
deploys are real runtimes/knative processes reached through its ingress gateway, and storage
is a real server shared by client and runtimes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing.contract import (
    DataProcessingContract,
    ExecutorContract,
    WorkerFailureContract,
)

from tests.servers.knative_cluster import KnativeCluster, knative_cluster

__all__ = ["knative_cluster"]


@pytest.fixture(scope="module")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("knative-storage")


@pytest.fixture
def make_executor(knative_cluster: KnativeCluster, storage_dir: Path
                  ) -> Callable[..., wren.FunctionExecutor]:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        config = {"knative": knative_cluster.knative_config(concurrency=4, max_workers=8),
                  "localhost": {"storage_dir": str(storage_dir)}}
        return wren.FunctionExecutor(backend="knative", storage="localhost", config=config,
                                     **overrides)

    return make


class TestKnativeExecutor(ExecutorContract):
    pass


class TestKnativeWorkerFailures(WorkerFailureContract):
    pass


class TestKnativeDataProcessing(DataProcessingContract):
    pass

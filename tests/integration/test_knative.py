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
from wren.testing import functions as fn
from wren.testing.contract import (
    DataProcessingContract,
    ExecutorContract,
    WorkerFailureContract,
)

from tests.servers.knative_cluster import KnativeCluster, knative_cluster
from tests.servers.rabbitmq import RabbitMQServer, rabbitmq_server

__all__ = ["knative_cluster", "rabbitmq_server"]


@pytest.fixture(scope="module")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("knative-storage")


@pytest.fixture
def make_executor(knative_cluster: KnativeCluster, storage_dir: Path
                  ) -> Callable[..., wren.FunctionExecutor]:
    def make(config_overrides: dict[str, Any] | None = None,
             **overrides: Any) -> wren.FunctionExecutor:
        config = {"knative": knative_cluster.knative_config(concurrency=4, max_workers=8),
                  "localhost": {"storage_dir": str(storage_dir)}, **(config_overrides or {})}
        return wren.FunctionExecutor(backend="knative", storage="localhost", config=config,
                                     **overrides)

    return make


class TestKnativeExecutor(ExecutorContract):
    pass


class TestKnativeWorkerFailures(WorkerFailureContract):
    pass


class TestKnativeDataProcessing(DataProcessingContract):
    pass


def test_statuses_reach_a_rabbitmq_monitor_from_the_runtime(
        make_executor: Callable[..., wren.FunctionExecutor],
        rabbitmq_server: RabbitMQServer) -> None:
    """The broker's URL is a secret: it reaches the runtime through the Service's Secret,
    like the storage keys, and the runtime's workers publish every status there."""
    with make_executor(monitoring="rabbitmq",
                       config_overrides={"rabbitmq": {"amqp_url": rabbitmq_server.url}}
                       ) as fexec:
        assert fexec.get_result(fexec.map(fn.double, range(12), chunksize=4)) == [
            2 * i for i in range(12)]
        assert fexec._monitor.arrivals["rabbitmq"] == 3
        assert fexec._monitor.arrivals["storage"] == 0

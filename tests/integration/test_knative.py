"""The contract suites against `knative` compute, end to end.

The cluster is the Kubernetes API test double (tests/doubles/kube_api.py); the runtimes it
deploys are real runtimes/knative processes reached through its ingress gateway, and storage
is a real server, Azurite (`azure_storage`), whose connection string reaches the runtimes
only through the Service's Kubernetes Secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import wren
from wren.client.futures import futures_of
from wren.protocol.task import JobKind
from wren.testing import functions as fn
from wren.testing.contract import (
    ComputeBackendContract,
    DataProcessingContract,
    ExecutorContract,
    WorkerFailureContract,
)

from tests.servers.azurite import ACCOUNT_KEY, Azurite, azurite
from tests.servers.knative_cluster import NAMESPACE, KnativeCluster, knative_cluster
from tests.servers.rabbitmq import RabbitMQServer, rabbitmq_server

__all__ = ["azurite", "knative_cluster", "rabbitmq_server"]


@pytest.fixture
def make_executor(knative_cluster: KnativeCluster, azurite: Azurite
                  ) -> Callable[..., wren.FunctionExecutor]:
    def make(config_overrides: dict[str, Any] | None = None,
             **overrides: Any) -> wren.FunctionExecutor:
        config = {"knative": knative_cluster.knative_config(concurrency=4, max_workers=8),
                  "azure_storage": azurite.storage_config("wren-knative"),
                  **(config_overrides or {})}
        return wren.FunctionExecutor(backend="knative", storage="azure_storage",
                                     config=config, **overrides)

    return make


class KnativeBinding:
    """Binds the executor suites to this module's `make_executor` fixture."""

    @pytest.fixture
    def make_executor(self, make_executor: Callable[..., wren.FunctionExecutor]
                      ) -> Callable[..., wren.FunctionExecutor]:
        return make_executor


class TestKnativeExecutor(KnativeBinding, ExecutorContract):
    pass


class TestKnativeWorkerFailures(KnativeBinding, WorkerFailureContract):
    pass


class TestKnativeDataProcessing(KnativeBinding, DataProcessingContract):
    pass


class TestKnativeCompute(KnativeBinding, ComputeBackendContract):
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


def test_storage_keys_reach_the_runtime_only_through_its_secret(
        make_executor: Callable[..., wren.FunctionExecutor], knative_cluster: KnativeCluster,
        azurite: Azurite) -> None:
    from kubernetes import client

    with make_executor() as fexec:
        job, tasks = fexec._prepare(fn.double, [21], JobKind.MAP)
        payload = json.dumps(tasks[0].to_dict())  # what the dispatcher sends
        assert ACCOUNT_KEY not in payload and "connection_string" not in payload
        fexec._invoke(job, tasks)
        assert futures_of(job)[0].result(timeout=60) == 42
        service = fexec.compute.route().service  # type: ignore[attr-defined]
    with knative_cluster.api_client() as api:
        secret = client.CoreV1Api(api).read_namespaced_secret(f"{service}-storage", NAMESPACE)
        stored = json.loads(base64.b64decode((secret.data or {})["storage-config"]))
        assert stored["connection_string"] == azurite.connection_string
        knative = client.CustomObjectsApi(api).get_namespaced_custom_object(
            "serving.knative.dev", "v1", NAMESPACE, "services", service)
    assert ACCOUNT_KEY not in json.dumps(knative)

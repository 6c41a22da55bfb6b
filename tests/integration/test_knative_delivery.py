"""`knative` requests and cluster access against the Kubernetes API test double.

Finding the ingress gateway (configured, Kourier, Istio by node port); gateway errors that
are retried, and reported on the calls when they persist; a runtime deleted or killed while
a client uses it; clear errors for a cluster that refuses, cannot be reached, or is not
configured.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import wren
from kubernetes import client
from wren.dispatch import Dispatcher
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.testing import TEST_KEY
from wren.testing import functions as fn
from wren_backend_knative import KnativeError
from wren_backend_knative.delivery import HttpDeliverer
from wren_backend_knative.ingress import Route

from tests.servers.knative_cluster import (
    RUNTIME_IMAGE,
    KnativeCluster,
    knative_cluster,
    storage_config,
    write_kubeconfig,
)
from tests.servers.ports import free_port

__all__ = ["knative_cluster", "storage_config"]


# Ingress --------------------------------------------------------------------------------------
def test_ingress_from_config_and_from_istio(knative_cluster: KnativeCluster,
                                            storage_config: dict[str, Any]) -> None:
    configured = knative_cluster.compute(storage_config,
                              ingress_endpoint=knative_cluster.ingress_url + "/")
    assert configured.route().endpoint == knative_cluster.ingress_url
    istio = knative_cluster.compute(storage_config, networking_layer="istio")
    with pytest.raises(KnativeError, match="no Service istio-system/istio-ingressgateway"):
        istio.route()
    gateway = client.V1Service(
        metadata=client.V1ObjectMeta(name="istio-ingressgateway"),
        spec=client.V1ServiceSpec(type="NodePort", ports=[client.V1ServicePort(
            name="http2", port=80, target_port=8080, node_port=knative_cluster.ingress_port)]))
    api = knative_cluster.api_client()
    core = client.CoreV1Api(api)
    core.create_namespaced_service("istio-system", gateway)
    try:
        istio = knative_cluster.compute(storage_config, networking_layer="istio")
        assert istio.route().endpoint == knative_cluster.ingress_url  # node IP + node port
        assert istio.runtime_info().python_version == configured.runtime_info().python_version
    finally:
        core.delete_namespaced_service("istio-ingressgateway", "istio-system")
        api.close()


def test_bad_ingress_endpoint_is_a_config_error(knative_cluster: KnativeCluster,
                                                storage_config: dict[str, Any]) -> None:
    with pytest.raises(KnativeError, match="not a URL"):
        knative_cluster.compute(storage_config, ingress_endpoint="127.0.0.1:80")


# Delivery failures ----------------------------------------------------------------------------
def test_gateway_errors_are_retried(knative_cluster: KnativeCluster,
                                    storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(), "localhost": storage_config}
    with wren.FunctionExecutor(backend="knative", storage="localhost", config=config) as fexec:
        fexec.compute.runtime_info()
        knative_cluster.inject_ingress_faults(503, 3)
        assert fexec.get_result(fexec.map(fn.double, [21]), timeout=60) == [42]


def test_persistent_gateway_errors_fail_the_calls(knative_cluster: KnativeCluster,
                                                  storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(invoke_retries=2),
              "localhost": storage_config}
    with wren.FunctionExecutor(backend="knative", storage="localhost", config=config) as fexec:
        fexec.compute.runtime_info()
        knative_cluster.inject_ingress_faults(502, 3)
        started = time.monotonic()
        future = fexec.call_async(fn.double, 1)
        with pytest.raises(wren.WorkerLostError,
                           match=r"could not deliver task .* in 3 attempts; last: HTTP 502"):
            future.result(timeout=60)
        assert time.monotonic() - started < 20
        assert fexec.call_async(fn.double, 2).result(timeout=60) == 4


def test_a_runtime_deleted_meanwhile_is_deployed_again(knative_cluster: KnativeCluster,
                                                       storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(runtime_memory=448),
              "localhost": storage_config}
    with wren.FunctionExecutor(backend="knative", storage="localhost", config=config) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]
        knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, 448)
        assert fexec.get_result(fexec.map(fn.double, [3, 4]), timeout=60) == [6, 8]
    knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, 448)


@pytest.mark.slow
def test_a_killed_runtime_pod_fails_its_calls_and_comes_back(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(runtime_memory=320),
              "localhost": storage_config}
    with wren.FunctionExecutor(backend="knative", storage="localhost", config=config) as fexec:
        compute: Any = fexec.compute
        name = compute.route().service
        future = fexec.call_async(fn.sleep_for, 60, timeout=2)
        time.sleep(1.0)
        [pod] = [r for r in knative_cluster.revisions() if r["service"] == name]
        os.killpg(pod["pid"], signal.SIGKILL)  # the pod dies with its worker processes
        with pytest.raises(wren.WorkerLostError, match="no status arrived"):
            future.result(timeout=120)
        assert fexec.call_async(fn.double, 5).result(timeout=60) == 10
        [pod] = [r for r in knative_cluster.revisions() if r["service"] == name]
        assert pod["restarts"] == 1 and pod["alive"]
    knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, 320)


class Recorder:
    """An `InvocationListener` that keeps what it is told."""

    def __init__(self) -> None:
        self.lost: list[tuple[str, list[int], str, str]] = []

    def status_pushed(self, document: bytes) -> None:
        raise AssertionError("the knative backend does not push statuses")

    def calls_lost(self, job_key: str, call_indices: Any, reason: str,
                   kind: str = "lost") -> None:
        self.lost.append((job_key, list(call_indices), reason, kind))


def test_wrong_host_is_reported_without_retrying(knative_cluster: KnativeCluster) -> None:
    route = Route("nobody", knative_cluster.ingress_url, "nobody.example.com")
    dispatcher = Dispatcher(HttpDeliverer(lambda task: route, threads=2, read_timeout=30),
                            threads=2, retries=5)
    task = Task("exec/M000", "t00000", "wren.funcs/x.fn", range(3), (0, 0), "localhost", {},
                "wren")
    recorder = Recorder()
    started = time.monotonic()
    dispatcher.submit([Invocation(task, TEST_KEY)], recorder)
    assert dispatcher.wait(30)
    assert time.monotonic() - started < 2  # a 404 is not retried
    [(job_key, indices, reason, kind)] = recorder.lost
    assert (job_key, indices, kind) == ("exec/M000", [0, 1, 2], "lost")
    assert "refused task t00000: HTTP 404" in reason and "nobody.example.com" in reason
    dispatcher.close()


# Cluster access ---------------------------------------------------------------------------
def test_wrong_token_names_the_credentials(knative_cluster: KnativeCluster, tmp_path: Path,
                                           storage_config: dict[str, Any]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, knative_cluster.api_port, "not-the-token")
    compute = knative_cluster.compute(storage_config, kubecfg_path=str(kubeconfig))
    with pytest.raises(KnativeError, match=r"Unauthorized.*check the credentials of context "
                                           "'wren-double'"):
        compute.list_runtimes()


def test_unreachable_cluster_is_a_clear_error(knative_cluster: KnativeCluster, tmp_path: Path,
                                              storage_config: dict[str, Any]) -> None:
    closed_port = free_port()  # nothing listens there
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, closed_port, knative_cluster.token)
    compute = knative_cluster.compute(storage_config, kubecfg_path=str(kubeconfig))
    with pytest.raises(KnativeError, match="cannot reach the Kubernetes API at http://127"):
        compute.list_runtimes()


def test_kubeconfig_problems_say_what_to_fix(knative_cluster: KnativeCluster, tmp_path: Path,
                                             storage_config: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = knative_cluster.compute(storage_config, context="elsewhere")
    with pytest.raises(KnativeError, match="context 'elsewhere'"):
        unknown.list_runtimes()
    missing = knative_cluster.compute(storage_config,
                           kubecfg_path=str(tmp_path / "nothing"))
    with pytest.raises(KnativeError, match="does not exist; fix the path"):
        missing.list_runtimes()
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    nothing = knative_cluster.compute(storage_config, kubecfg_path=None)
    with pytest.raises(KnativeError, match="no Kubernetes cluster is configured"):
        nothing.list_runtimes()
    monkeypatch.setenv("KUBECONFIG", str(knative_cluster.kubeconfig))
    assert isinstance(knative_cluster.compute(storage_config,
                                   kubecfg_path=None).list_runtimes(), list)

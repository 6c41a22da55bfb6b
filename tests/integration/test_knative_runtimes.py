"""`knative` runtime management and failure handling, against the Kubernetes API test double.

Deploy, list, update and delete runtimes as Knative Services; the Secrets that carry storage
and registry credentials; deploy failures that quote the Service's conditions; finding the
ingress gateway; retries when the gateway fails; clear errors for a cluster that refuses or
cannot be reached. Revisions are real runtimes/knative processes (see tests/doubles).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from kubernetes import client
from wren.job.task import Task
from wren.ports.compute import WorkerStorage
from wren.testing import functions as fn
from wren_backend_knative import KnativeCompute, KnativeError, RuntimeDeployError
from wren_backend_knative.config import SCHEMA
from wren_backend_knative.dispatch import Dispatcher
from wren_backend_knative.ingress import Route

from tests.servers.knative_cluster import (
    CRASHING_IMAGE,
    MISSING_IMAGE,
    NAMESPACE,
    OTHER_RUNTIME_IMAGE,
    PYTHON38_IMAGE,
    RUNTIME_IMAGE,
    KnativeCluster,
    knative_cluster,
    write_kubeconfig,
)

__all__ = ["knative_cluster"]


@pytest.fixture
def storage_config(tmp_path: Path) -> dict[str, Any]:
    return {"storage_dir": str(tmp_path / "storage"), "storage_bucket": "wren"}


def make_compute(cluster: KnativeCluster, storage: dict[str, Any], **knative: Any
                 ) -> KnativeCompute:
    config = SCHEMA.validate(cluster.knative_config(**knative))
    return KnativeCompute(config, WorkerStorage("localhost", storage, storage))


@pytest.fixture
def api(knative_cluster: KnativeCluster) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    configuration.host = knative_cluster.api_url
    configuration.api_key = {"BearerToken": knative_cluster.token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    with client.ApiClient(configuration) as api_client:
        yield api_client


def read_service(api: client.ApiClient, name: str) -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(
        "serving.knative.dev", "v1", NAMESPACE, "services", name)


def secret_data(api: client.ApiClient, name: str) -> dict[str, str]:
    secret = client.CoreV1Api(api).read_namespaced_secret(name, NAMESPACE)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


# Deploy, list, update, delete ---------------------------------------------------------------
def test_deploy_list_update_delete(knative_cluster: KnativeCluster, api: client.ApiClient,
                                   storage_config: dict[str, Any]) -> None:
    compute = make_compute(knative_cluster, storage_config, concurrency=3, max_workers=10)
    entry = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=512)
    assert (entry.name, entry.memory, entry.wren_version) == (OTHER_RUNTIME_IMAGE, 512,
                                                               wren.__version__)
    assert entry in compute.list_runtimes()

    service = read_service(api, entry.worker_name)
    template = service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    assert annotations["autoscaling.knative.dev/max-scale"] == "4"  # 10 calls, 3 a pod
    assert annotations["autoscaling.knative.dev/target"] == "3"
    assert template["spec"]["containerConcurrency"] == 3
    container = template["spec"]["containers"][0]
    assert container["image"] == OTHER_RUNTIME_IMAGE
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "512Mi"}
    assert service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "wren"
    env = {item["name"]: item for item in container["env"]}
    storage_ref = env["WREN_STORAGE_CONFIG"]["valueFrom"]["secretKeyRef"]
    assert "value" not in env["WREN_STORAGE_CONFIG"]
    assert json.loads(secret_data(api, storage_ref["name"])[storage_ref["key"]]) == \
        storage_config
    assert "imagePullSecrets" not in template["spec"]

    first = [r for r in knative_cluster.revisions() if r["service"] == entry.worker_name]
    assert [r["revision"] for r in first] == [f"{entry.worker_name}-00001"]
    updated = make_compute(knative_cluster, storage_config, concurrency=3, runtime_cpu=1.0)
    updated.update_runtime(OTHER_RUNTIME_IMAGE)
    service = read_service(api, entry.worker_name)
    assert service["metadata"]["generation"] == 2
    limits = service["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["cpu"] == "1000m"
    second = [r for r in knative_cluster.revisions() if r["service"] == entry.worker_name]
    assert [r["revision"] for r in second] == [f"{entry.worker_name}-00002"]

    compute.delete_runtime(OTHER_RUNTIME_IMAGE)
    assert entry.worker_name not in {e.worker_name for e in compute.list_runtimes()}
    with pytest.raises(client.ApiException) as missing:
        read_service(api, entry.worker_name)
    assert missing.value.status == 404
    with pytest.raises(client.ApiException):
        client.CoreV1Api(api).read_namespaced_secret(storage_ref["name"], NAMESPACE)
    with pytest.raises(KnativeError, match="is not deployed"):
        compute.update_runtime(OTHER_RUNTIME_IMAGE)


def test_delete_one_memory_keeps_the_others(knative_cluster: KnativeCluster,
                                            storage_config: dict[str, Any]) -> None:
    compute = make_compute(knative_cluster, storage_config)
    small = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=128)
    large = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=1024)
    compute.delete_runtime(OTHER_RUNTIME_IMAGE, memory=128)
    names = {e.worker_name for e in compute.list_runtimes()}
    assert large.worker_name in names and small.worker_name not in names
    compute.delete_runtime(OTHER_RUNTIME_IMAGE)
    assert large.worker_name not in {e.worker_name for e in compute.list_runtimes()}


def test_registry_login_makes_an_image_pull_secret(knative_cluster: KnativeCluster,
                                                   api: client.ApiClient,
                                                   storage_config: dict[str, Any]) -> None:
    compute = make_compute(knative_cluster, storage_config, docker_server="registry.example",
                           docker_user="robot", docker_password="pa55-w0rd")
    entry = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=640)
    try:
        service = read_service(api, entry.worker_name)
        assert "pa55-w0rd" not in json.dumps(service)
        pulls = service["spec"]["template"]["spec"]["imagePullSecrets"]
        secret = client.CoreV1Api(api).read_namespaced_secret(pulls[0]["name"], NAMESPACE)
        assert secret.type == "kubernetes.io/dockerconfigjson"
        login = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))
        auth = login["auths"]["registry.example"]
        assert (auth["username"], auth["password"]) == ("robot", "pa55-w0rd")
        assert base64.b64decode(auth["auth"]) == b"robot:pa55-w0rd"
    finally:
        compute.delete_runtime(OTHER_RUNTIME_IMAGE)


# Deploy failures ----------------------------------------------------------------------------
@pytest.mark.parametrize(("image", "quoted"), [
    (MISSING_IMAGE, "Unable to fetch image"),
    (CRASHING_IMAGE, "exit code 3: cannot start"),
])
def test_failed_deploy_quotes_the_conditions(knative_cluster: KnativeCluster, image: str,
                                             quoted: str, storage_config: dict[str, Any]
                                             ) -> None:
    compute = make_compute(knative_cluster, storage_config)
    try:
        with pytest.raises(RuntimeDeployError) as failure:
            compute.deploy_runtime(image)
        message = str(failure.value)
        assert "Ready=False" in message and "RevisionFailed" in message
        assert quoted in message and image in message
        assert "wren runtime deploy" in message
    finally:
        compute.delete_runtime(image)


def test_executor_fails_before_invoking_when_the_runtime_cannot_start(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(runtime=MISSING_IMAGE),
              "localhost": storage_config}
    try:
        with wren.FunctionExecutor(backend="knative", storage="localhost",
                                   config=config) as fexec:
            with pytest.raises(RuntimeDeployError, match="Unable to fetch image"):
                fexec.map(fn.double, [1, 2])
            assert fexec.futures == []
    finally:
        make_compute(knative_cluster, storage_config).delete_runtime(MISSING_IMAGE)


def test_settings_knative_refuses_are_quoted(knative_cluster: KnativeCluster,
                                             storage_config: dict[str, Any]) -> None:
    compute = make_compute(knative_cluster, storage_config, runtime_timeout=900)
    with pytest.raises(KnativeError, match=r"denied the request.*900 <= 600.*timeoutSeconds"):
        compute.deploy_runtime(OTHER_RUNTIME_IMAGE)


def test_runtime_with_another_python_is_refused(knative_cluster: KnativeCluster,
                                                storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(runtime=PYTHON38_IMAGE),
              "localhost": storage_config}
    try:
        with wren.FunctionExecutor(backend="knative", storage="localhost",
                                   config=config) as fexec:
            with pytest.raises(wren.RuntimeMismatchError, match=r"Python 3\.8.*wren runtime "
                               "build"):
                fexec.map(fn.double, [1])
            assert fexec.futures == []
    finally:
        make_compute(knative_cluster, storage_config).delete_runtime(PYTHON38_IMAGE)


# Storage settings ---------------------------------------------------------------------------
def test_new_storage_settings_roll_out_a_new_revision(knative_cluster: KnativeCluster,
                                                      api: client.ApiClient,
                                                      tmp_path: Path) -> None:
    def run(storage_dir: Path) -> None:
        config = {"knative": knative_cluster.knative_config(runtime_memory=384),
                  "localhost": {"storage_dir": str(storage_dir)}}
        with wren.FunctionExecutor(backend="knative", storage="localhost", config=config,
                                   data_cleaner=False) as fexec:
            assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]

    name = make_compute(knative_cluster, {}).manager.spec(RUNTIME_IMAGE, 384).name
    try:
        run(tmp_path / "first")
        generation = read_service(api, name)["metadata"]["generation"]
        run(tmp_path / "second")
        assert read_service(api, name)["metadata"]["generation"] == generation + 1
        secret = secret_data(api, f"{name}-storage")
        assert json.loads(secret["storage-config"])["storage_dir"] == str(tmp_path / "second")
        assert list((tmp_path / "second" / "wren" / "wren.jobs").iterdir())
    finally:
        make_compute(knative_cluster, {}).delete_runtime(RUNTIME_IMAGE, memory=384)


# Ingress --------------------------------------------------------------------------------------
def test_ingress_from_config_and_from_istio(knative_cluster: KnativeCluster,
                                            api: client.ApiClient,
                                            storage_config: dict[str, Any]) -> None:
    configured = make_compute(knative_cluster, storage_config,
                              ingress_endpoint=knative_cluster.ingress_url + "/")
    assert configured.route().endpoint == knative_cluster.ingress_url
    istio = make_compute(knative_cluster, storage_config, networking_layer="istio")
    with pytest.raises(KnativeError, match="no Service istio-system/istio-ingressgateway"):
        istio.route()
    gateway = {"metadata": {"name": "istio-ingressgateway"}, "spec": {
        "type": "NodePort", "ports": [{"name": "http2", "port": 80, "targetPort": 8080,
                                       "nodePort": knative_cluster.ingress_port}]}}
    core = client.CoreV1Api(api)
    core.create_namespaced_service("istio-system", gateway)
    try:
        istio = make_compute(knative_cluster, storage_config, networking_layer="istio")
        assert istio.route().endpoint == knative_cluster.ingress_url  # node IP + node port
        assert istio.runtime_info().python_version == configured.runtime_info().python_version
    finally:
        core.delete_namespaced_service("istio-ingressgateway", "istio-system")


def test_bad_ingress_endpoint_is_a_config_error(knative_cluster: KnativeCluster,
                                                storage_config: dict[str, Any]) -> None:
    with pytest.raises(KnativeError, match="not a URL"):
        make_compute(knative_cluster, storage_config, ingress_endpoint="127.0.0.1:80")


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
        make_compute(knative_cluster, storage_config).delete_runtime(RUNTIME_IMAGE, 448)
        assert fexec.get_result(fexec.map(fn.double, [3, 4]), timeout=60) == [6, 8]
    make_compute(knative_cluster, storage_config).delete_runtime(RUNTIME_IMAGE, 448)


@pytest.mark.slow
def test_a_killed_runtime_pod_fails_its_calls_and_comes_back(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    config = {"knative": knative_cluster.knative_config(runtime_memory=320),
              "localhost": storage_config}
    with wren.FunctionExecutor(backend="knative", storage="localhost", config=config) as fexec:
        name = fexec.compute.route().service
        future = fexec.call_async(fn.sleep_for, 60, timeout=2)
        time.sleep(1.0)
        [pod] = [r for r in knative_cluster.revisions() if r["service"] == name]
        os.killpg(pod["pid"], signal.SIGKILL)  # the pod dies with its worker processes
        with pytest.raises(wren.WorkerLostError, match="no status arrived"):
            future.result(timeout=120)
        assert fexec.call_async(fn.double, 5).result(timeout=60) == 10
        [pod] = [r for r in knative_cluster.revisions() if r["service"] == name]
        assert pod["restarts"] == 1 and pod["alive"]
    make_compute(knative_cluster, storage_config).delete_runtime(RUNTIME_IMAGE, 320)


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
    dispatcher = Dispatcher(threads=2, retries=5, read_timeout=30)
    route = Route("nobody", knative_cluster.ingress_url, "nobody.example.com")
    task = Task("exec/M000", "t00000", "wren.funcs/x.fn", range(3), (0, 0), "localhost", {},
                "wren")
    recorder = Recorder()
    started = time.monotonic()
    dispatcher.submit(route, [task], recorder)
    assert dispatcher.wait_idle(30)
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
    compute = make_compute(knative_cluster, storage_config, kubecfg_path=str(kubeconfig))
    with pytest.raises(KnativeError, match=r"Unauthorized.*check the credentials of context "
                                           "'wren-double'"):
        compute.list_runtimes()


def test_unreachable_cluster_is_a_clear_error(knative_cluster: KnativeCluster, tmp_path: Path,
                                              storage_config: dict[str, Any]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    write_kubeconfig(kubeconfig, closed_port, knative_cluster.token)
    compute = make_compute(knative_cluster, storage_config, kubecfg_path=str(kubeconfig))
    with pytest.raises(KnativeError, match="cannot reach the Kubernetes API at http://127"):
        compute.list_runtimes()


def test_kubeconfig_problems_say_what_to_fix(knative_cluster: KnativeCluster, tmp_path: Path,
                                             storage_config: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = make_compute(knative_cluster, storage_config, context="elsewhere")
    with pytest.raises(KnativeError, match="context 'elsewhere'"):
        unknown.list_runtimes()
    missing = make_compute(knative_cluster, storage_config,
                           kubecfg_path=str(tmp_path / "nothing"))
    with pytest.raises(KnativeError, match="does not exist; fix the path"):
        missing.list_runtimes()
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    nothing = make_compute(knative_cluster, storage_config, kubecfg_path=None)
    with pytest.raises(KnativeError, match="no Kubernetes cluster is configured"):
        nothing.list_runtimes()
    monkeypatch.setenv("KUBECONFIG", str(knative_cluster.kubeconfig))
    assert isinstance(make_compute(knative_cluster, storage_config,
                                   kubecfg_path=None).list_runtimes(), list)

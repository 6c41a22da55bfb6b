"""`k8s` compute end to end: every contract suite, with every pod a real container.

The Kubernetes API is the test double (tests/doubles/kube_api.py, which says so) with its Job
controller (tests/doubles/kube_batch.py): each pod of an indexed Job runs the runtime image
that `wren runtime build` built from wren-backend-k8s's Dockerfile and pushed to a real
registry, in podman. Storage is real: Ceph RGW (`ibm_cos`) for the suites, Azurite
(`azure_storage`) for the executor contract again. Tests that kill pods, read the objects
wren writes, or validate images use a process-run image of the same entry point (faster).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import requests
import wren
from wren.testing import functions as fn
from wren.testing.contract import (
    ComputeBackendContract,
    DataProcessingContract,
    ExecutorContract,
    HostileStorageContract,
    WorkerFailureContract,
)
from wren_backend_ibmcf import IbmCosStorage

from tests.servers.azurite import Azurite, azurite
from tests.servers.ceph import CephGateway, shared_gateway
from tests.servers.knative_cluster import NAMESPACE, KnativeCluster, running_cluster
from tests.servers.podman import BASE_IMAGE, PodmanEngine, podman_engine
from tests.servers.registry import registry

__all__ = ["azurite", "podman_engine", "registry"]
pytestmark = pytest.mark.timeout(900)

BUCKET = "wren-k8s"
ENTRY = Path(str(files("wren_backend_k8s") / "runtime" / "entry_point.py"))
#: An image the double runs as a process of this interpreter (the same entry point).
PROCESS_IMAGE = "wren-test/wren-k8s-runtime:dev"
MakeExecutor = Callable[..., wren.FunctionExecutor]


def build_image(engine: PodmanEngine, image: str, storage: str, home: Path) -> str:
    """`wren runtime build IMAGE -b k8s -s STORAGE`, pushed to the test registry."""
    env = {**os.environ, "DOCKER_HOST": engine.docker_host, "HOME": str(home)}
    env.pop("WREN_CONFIG_FILE", None)
    built = subprocess.run(
        [sys.executable, "-m", "wren_cli", "runtime", "build", image, "-b", "k8s", "-s",
         storage, "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"],
        env=env, cwd=home, capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return image


@pytest.fixture(scope="module")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


@pytest.fixture(scope="module")
def cos_config(ceph_gateway: CephGateway) -> dict[str, Any]:
    config = ceph_gateway.ibm_cos_config(BUCKET)
    IbmCosStorage(config).create_bucket(BUCKET)
    return config


@pytest.fixture(scope="module")
def cluster(podman_engine: PodmanEngine, registry: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnativeCluster]:
    with running_cluster(tmp_path_factory.mktemp("k8s-cluster"), registry=registry,
                         engine_env=podman_engine.env,
                         images=[f"{PROCESS_IMAGE}={ENTRY}"]) as started:
        yield started


@pytest.fixture(scope="module")
def cos_image(podman_engine: PodmanEngine, registry: str,
              tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_image(podman_engine, f"{registry}/wren-ci/k8s-runtime:cos", "ibm_cos",
                       tmp_path_factory.mktemp("cli-home"))


def k8s_section(cluster: KnativeCluster, image: str, **extra: Any) -> dict[str, Any]:
    return {"kubecfg_path": str(cluster.kubeconfig), "runtime": image, "max_workers": 8,
            "runtime_memory": 256, **extra}


def double(cluster: KnativeCluster, method: str, path: str, **kwargs: Any) -> Any:
    answer = requests.request(method, cluster.api_url + path, timeout=30,
                              headers={"Authorization": f"Bearer {cluster.token}"}, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def make_executor(cluster: KnativeCluster, cos_image: str, cos_config: dict[str, Any]
                  ) -> MakeExecutor:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        config = {"k8s": k8s_section(cluster, cos_image), "ibm_cos": cos_config}
        return wren.FunctionExecutor(backend="k8s", storage="ibm_cos", config=config,
                                     **overrides)

    return make


@pytest.fixture
def process_executor(cluster: KnativeCluster, cos_config: dict[str, Any]) -> MakeExecutor:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        config = {"k8s": k8s_section(cluster, PROCESS_IMAGE), "ibm_cos": cos_config}
        return wren.FunctionExecutor(backend="k8s", storage="ibm_cos", config=config,
                                     **overrides)

    return make


# First in the module: the image is built in this test's setup, not under a contract
# suite's shorter time limit.
def test_calls_run_in_the_container(make_executor: MakeExecutor, cos_image: str) -> None:
    def where(_: int) -> str:  # pickled by value: this module is not in the image
        import sys

        return sys.executable

    with make_executor() as fexec:
        info = fexec.compute.runtime_info()
        assert info.name == cos_image
        assert {"wren_backend_k8s", "wren_backend_ibmcf"} <= info.preinstalled_modules
        assert "pytest" not in info.preinstalled_modules
        assert set(fexec.get_result(fexec.map(where, range(4)))) == {"/opt/wren/bin/python3"}


class K8sBinding:
    @pytest.fixture
    def make_executor(self, make_executor: MakeExecutor) -> MakeExecutor:
        return make_executor  # this module's fixture


class TestK8sExecutor(K8sBinding, ExecutorContract):
    pass


class TestK8sWorkerFailures(K8sBinding, WorkerFailureContract):
    pass


class TestK8sDataProcessing(K8sBinding, DataProcessingContract):
    pass


class TestK8sCompute(K8sBinding, ComputeBackendContract):
    pass


class TestK8sHostileStorage(K8sBinding, HostileStorageContract):
    """An attacker with write access to the Ceph bucket (`ibm_cos`)."""


def test_the_azure_storage_image_builds(podman_engine: PodmanEngine, registry: str,
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Before the suite that needs it: its first test's time limit is shorter."""
    assert _azure_image(podman_engine, registry, tmp_path_factory).endswith(":azure")


class TestK8sAzuriteExecutor(ExecutorContract):
    """The executor contract again with `azure_storage` on Azurite."""

    @pytest.fixture
    def make_executor(self, cluster: KnativeCluster, podman_engine: PodmanEngine,
                      registry: str, azurite: Azurite,
                      tmp_path_factory: pytest.TempPathFactory) -> MakeExecutor:
        image = _azure_image(podman_engine, registry, tmp_path_factory)

        def make(**overrides: Any) -> wren.FunctionExecutor:
            config = {"k8s": k8s_section(cluster, image),
                      "azure_storage": azurite.storage_config("wren-k8s")}
            return wren.FunctionExecutor(backend="k8s", storage="azure_storage",
                                         config=config, **overrides)

        return make


_built: dict[str, str] = {}


def _azure_image(engine: PodmanEngine, registry: str,
                 factory: pytest.TempPathFactory) -> str:
    if "azure" not in _built:
        _built["azure"] = build_image(engine, f"{registry}/wren-ci/k8s-runtime:azure",
                                      "azure_storage", factory.mktemp("cli-home-azure"))
    return _built["azure"]


# The platform's own failures and what wren writes --------------------------------------------
def _running_pod(cluster: KnativeCluster, client: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = double(cluster, "GET", f"/api/v1/namespaces/{NAMESPACE}/pods",
                      params={"labelSelector": f"wren.dev/client={client},"
                                               "wren.dev/purpose=task"})["items"]
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        if running:
            return str(running[0]["metadata"]["name"])
        time.sleep(0.2)
    raise AssertionError("no task pod ran")


@pytest.mark.parametrize(("reason", "said"), [("OOMKilled", "OOMKilled.*256Mi"),
                                              ("Evicted", "Evicted: The node was low")])
def test_a_pod_killed_by_the_platform_is_an_error_with_its_reason(
        cluster: KnativeCluster, process_executor: MakeExecutor, reason: str,
        said: str) -> None:
    with process_executor() as fexec:
        future = fexec.call_async(fn.sleep_then, (60, 0))
        pod = _running_pod(cluster, fexec.compute.client_id)
        double(cluster, "POST", f"/_double/pods/{NAMESPACE}/{pod}/terminate",
               json={"reason": reason})
        with pytest.raises(wren.WorkerLostError, match=said):
            future.result(timeout=30)
        assert fexec.call_async(fn.double, 2).result(timeout=60) == 4


def _finished_job(cluster: KnativeCluster, client: str, timeout: float = 60) -> Any:
    """The client's one task Job, once it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = double(cluster, "GET", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs",
                      params={"labelSelector": f"wren.dev/client={client},"
                                               "wren.dev/purpose=task"})["items"]
        if len(jobs) == 1 and (jobs[0].get("status") or {}).get("conditions"):
            return jobs[0]
        assert time.monotonic() < deadline, f"no finished Job: {jobs}"
        time.sleep(0.2)


def test_the_key_and_credentials_travel_only_in_the_jobs_secret(
        cluster: KnativeCluster, process_executor: MakeExecutor,
        cos_config: dict[str, Any]) -> None:
    with process_executor() as fexec:
        assert fexec.get_result(fexec.map(fn.double, range(5), chunksize=1)) == \
            [0, 2, 4, 6, 8]
        client = fexec.compute.client_id
        key = base64.b64encode(fexec._key).decode()
    job = _finished_job(cluster, client)
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == \
        ("Indexed", 5, 5)
    assert spec["backoffLimitPerIndex"] == 0 and spec["podFailurePolicy"]["rules"]
    assert job["status"]["completedIndexes"] == "0-4"
    text = json.dumps(job)
    assert key not in text and cos_config["secret_access_key"] not in text
    secret = double(cluster, "GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/"
                                    f"{job['metadata']['name']}")
    assert secret["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    assert base64.b64decode(secret["data"]["executor-key"]).decode() == key
    storage = IbmCosStorage(cos_config)
    for name in storage.list_keys(BUCKET, ""):
        assert key.encode() not in bytes(storage.get_object(BUCKET, name))


def test_a_crashed_call_fails_alone_in_its_pod(process_executor: MakeExecutor) -> None:
    def work(x: int) -> int:
        if x == 1:
            fn.exit_process(3)
        return x * 10

    with process_executor() as fexec:
        futures = fexec.map(work, [0, 1, 2, 3], chunksize=4)
        with pytest.raises(wren.WorkerLostError, match="exited with code 3"):
            futures[1].result(timeout=60)
        assert [futures[i].result(timeout=60) for i in (0, 2, 3)] == [0, 20, 30]


def test_runtime_verbs_validate_list_delete_and_clean(
        cluster: KnativeCluster, cos_config: dict[str, Any], registry: str,
        process_executor: MakeExecutor) -> None:
    from wren.ports.compute import WorkerStorage
    from wren_backend_k8s import K8sCompute
    from wren_backend_k8s.config import SCHEMA

    config = SCHEMA.validate(k8s_section(cluster, PROCESS_IMAGE, deploy_timeout=60))
    compute = K8sCompute(config, WorkerStorage("ibm_cos", cos_config, {
        k: v for k, v in cos_config.items() if k != "secret_access_key"}))
    try:
        entry = compute.deploy_runtime(PROCESS_IMAGE)
        assert (entry.name, entry.wren_version) == (PROCESS_IMAGE, wren.__version__)
        assert PROCESS_IMAGE in [e.name for e in compute.list_runtimes()]
        info = compute.runtime_info()
        assert info.python_version == ".".join(map(str, sys.version_info[:2]))
        missing = f"{registry}/wren-ci/never-pushed:1"
        with pytest.raises(wren.RuntimeMismatchError, match="ErrImagePull"):
            compute.deploy_runtime(missing)
        compute.delete_runtime(PROCESS_IMAGE)
        assert PROCESS_IMAGE not in [e.name for e in compute.list_runtimes()]
        with process_executor() as fexec:
            assert fexec.get_result(fexec.call_async(fn.double, 4)) == 8
            _finished_job(cluster, fexec.compute.client_id)
        removed = compute.clean_finished()
        assert removed[0].endswith(f"finished Jobs in namespace {NAMESPACE}")
        assert int(removed[0].split()[0]) >= 1
        left = [j for j in compute.runtimes.cluster.list_jobs("app.kubernetes.io/managed-by=wren")
                if j.status and j.status.conditions]
        assert left == []
    finally:
        compute.close()

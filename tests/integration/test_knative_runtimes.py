"""`knative` runtime management against the Kubernetes API test double.

Deploy, list, update and delete runtimes as Knative Services; the Secrets that carry storage
and registry credentials; deploy failures that quote the Service's conditions; a runtime built
for another Python; new storage settings rolling out a new revision. Revisions are real
runtimes/knative processes (see tests/doubles).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import wren
import yaml
from kubernetes import client
from wren import ConfigError
from wren.testing import functions as fn
from wren_backend_knative import KnativeError, RuntimeDeployError
from wren_backend_knative.manifest import service_manifest

from tests.servers.knative_cluster import (
    CRASHING_IMAGE,
    MISSING_IMAGE,
    NAMESPACE,
    OTHER_RUNTIME_IMAGE,
    PYTHON38_IMAGE,
    RUNTIME_IMAGE,
    KnativeCluster,
    api,
    knative_cluster,
    read_service,
    secret_data,
    storage_config,
)

__all__ = ["api", "knative_cluster", "storage_config"]


# Deploy, list, update, delete ---------------------------------------------------------------
def test_deploy_list_update_delete(knative_cluster: KnativeCluster, api: client.ApiClient,
                                   storage_config: dict[str, Any]) -> None:
    compute = knative_cluster.compute(storage_config, concurrency=3, max_workers=10)
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
    updated = knative_cluster.compute(storage_config, concurrency=3, runtime_cpu=1.0)
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
    compute = knative_cluster.compute(storage_config)
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
    compute = knative_cluster.compute(storage_config, docker_server="registry.example",
                           docker_user="robot", docker_password="pa55-w0rd")
    entry = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=640)
    try:
        service = read_service(api, entry.worker_name)
        assert "pa55-w0rd" not in json.dumps(service)
        pulls = service["spec"]["template"]["spec"]["imagePullSecrets"]
        secret = client.CoreV1Api(api).read_namespaced_secret(pulls[0]["name"], NAMESPACE)
        assert secret.type == "kubernetes.io/dockerconfigjson"
        login = json.loads(base64.b64decode((secret.data or {})[".dockerconfigjson"]))
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
    compute = knative_cluster.compute(storage_config)
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
        knative_cluster.compute(storage_config).delete_runtime(MISSING_IMAGE)


def test_limits_are_refused_before_anything_is_deployed(
        knative_cluster: KnativeCluster, api: client.ApiClient,
        storage_config: dict[str, Any]) -> None:
    """Issue 15: Knative's limits are bounds of the config keys, checked (with the published
    figure) before the cluster is contacted; the double's webhook refuses the same."""
    with pytest.raises(ConfigError, match=r"'runtime_timeout' in section 'knative' is 900; it "
                       r"must be between 1 and 600 \(Knative Serving's default "
                       "max-revision-timeout-seconds"):
        knative_cluster.compute(storage_config, runtime_timeout=900)
    with pytest.raises(ConfigError, match=r"'concurrency' .* is 1001; it must be between 1 "
                                          "and 1000 .*container-concurrency-max-limit"):
        knative_cluster.compute(storage_config, concurrency=1001)
    with pytest.raises(ConfigError, match=r"scale_down_delay.*between 0 and 3600"):
        knative_cluster.compute(storage_config, scale_down_delay=7200)
    compute = knative_cluster.compute(storage_config)
    with pytest.raises(ConfigError, match="between 1 and 600"):  # wren runtime deploy --timeout
        compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=896, timeout=900)
    assert 896 not in {e.memory for e in compute.list_runtimes()}
    # should a body get past wren, the cluster refuses it as Knative's webhook does
    body = service_manifest(compute.manager.spec(OTHER_RUNTIME_IMAGE, 896))
    body["spec"]["template"]["spec"]["timeoutSeconds"] = 900
    with pytest.raises(client.ApiException) as refused:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "serving.knative.dev", "v1", NAMESPACE, "services", body)
    assert refused.value.status == 400
    assert "900 <= 600" in str(refused.value.body) and "timeoutSeconds" in str(
        refused.value.body)


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
        knative_cluster.compute(storage_config).delete_runtime(PYTHON38_IMAGE)


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

    name = knative_cluster.compute({}).manager.spec(RUNTIME_IMAGE, 384).name
    try:
        run(tmp_path / "first")
        generation = read_service(api, name)["metadata"]["generation"]
        run(tmp_path / "second")
        assert read_service(api, name)["metadata"]["generation"] == generation + 1
        secret = secret_data(api, f"{name}-storage")
        assert json.loads(secret["storage-config"])["storage_dir"] == str(tmp_path / "second")
        assert list((tmp_path / "second" / "wren" / "wren.jobs").iterdir())
    finally:
        knative_cluster.compute({}).delete_runtime(RUNTIME_IMAGE, memory=384)


# The wren command -------------------------------------------------------------------------
def test_runtime_verbs_of_the_wren_command(knative_cluster: KnativeCluster,
                                          tmp_path: Path) -> None:
    config = tmp_path / "wren.yaml"
    config.write_text(yaml.safe_dump({
        "wren": {"backend": "knative", "storage": "localhost"},
        "knative": knative_cluster.knative_config(),
        "localhost": {"storage_dir": str(tmp_path / "storage")}}))

    def wren_command(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "wren_cli", "runtime", *args, "-c",
                               str(config)], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    deployed = wren_command("deploy", OTHER_RUNTIME_IMAGE, "--memory", "768")
    assert f"deployed {OTHER_RUNTIME_IMAGE}" in deployed
    listed = wren_command("list")
    assert OTHER_RUNTIME_IMAGE in listed and "768" in listed
    wren_command("update", OTHER_RUNTIME_IMAGE)
    wren_command("delete", OTHER_RUNTIME_IMAGE, "--memory", "768")
    assert OTHER_RUNTIME_IMAGE not in wren_command("list")
    refused = subprocess.run([sys.executable, "-m", "wren_cli", "runtime", "deploy",
                              MISSING_IMAGE, "-c", str(config)], capture_output=True,
                             text=True, timeout=120, cwd=tmp_path, check=False)
    assert refused.returncode != 0 and "Unable to fetch image" in refused.stderr
    wren_command("delete", MISSING_IMAGE)

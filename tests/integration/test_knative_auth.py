"""Knative runtimes authenticate their callers (issue 12), against the Kubernetes API double.

The runtime's bearer token is made at deploy, kept in the runtime's Secret and handed to the
container through a `secretKeyRef`; a client on another machine reads it from there. A
request through the ingress gateway without it runs nothing. A Service deployed before
runtimes took tokens is deployed again on first use. `visibility: cluster-local` labels the
Service so and sends requests to its cluster-local name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import wren
from kubernetes import client
from wren.protocol.invocation import Invocation
from wren.protocol.task import JobKind
from wren.testing import functions as fn
from wren_backend_knative import KnativeError
from wren_backend_knative.manifest import VISIBILITY_LABEL, service_manifest

from tests.servers.knative_cluster import (
    NAMESPACE,
    OTHER_RUNTIME_IMAGE,
    RUNTIME_IMAGE,
    KnativeCluster,
    api,
    knative_cluster,
    read_service,
    secret_data,
    storage_config,
)

__all__ = ["api", "knative_cluster", "storage_config"]


def secret_token(api: client.ApiClient, service: str) -> str:
    return secret_data(api, f"{service}-storage")["runtime-token"]


def _touch(path: str) -> str:
    with open(path, "w") as canary:
        canary.write("ran")
    return path


def test_the_token_comes_from_the_runtimes_secret(knative_cluster: KnativeCluster,
                                                  api: client.ApiClient, tmp_path: Path,
                                                  storage_config: dict[str, Any]) -> None:
    compute = knative_cluster.compute(storage_config)
    entry = compute.deploy_runtime(OTHER_RUNTIME_IMAGE, memory=320)
    try:
        token = secret_token(api, entry.worker_name)
        assert len(token) >= 43
        service = read_service(api, entry.worker_name)
        env = {e["name"]: e for e in service["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["WREN_RUNTIME_TOKEN"]["valueFrom"]["secretKeyRef"] == {
            "name": f"{entry.worker_name}-storage", "key": "runtime-token"}
        assert token not in json.dumps(service)
        compute.update_runtime(OTHER_RUNTIME_IMAGE)  # running pods keep their token
        assert secret_token(api, entry.worker_name) == token

        # a client on a fresh machine reads the token from the Secret and is let in
        fresh = knative_cluster.compute(storage_config, runtime=OTHER_RUNTIME_IMAGE)
        route = fresh.route(320)
        assert route.token == token and token not in repr(route)
        assert fresh.runtime_info().python_version

        # through the gateway, a request without the token runs nothing
        canary = tmp_path / "canary"
        with wren.FunctionExecutor(backend="localhost", storage="localhost",
                                   **storage_config) as fexec:
            _, tasks = fexec._prepare(_touch, [str(canary)], JobKind.MAP)
            body = json.dumps(Invocation(tasks[0], fexec._key).to_dict())
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            refused = requests.post(route.url, data=body, timeout=30,
                                    headers={"Host": route.host, **headers})
            assert refused.status_code == 401
            described = requests.get(route.endpoint + "/metadata", timeout=30,
                                     headers={"Host": route.host, **headers})
            assert described.status_code == 401
        assert not canary.exists()
    finally:
        compute.delete_runtime(OTHER_RUNTIME_IMAGE)


def test_a_runtime_deployed_without_a_token_is_deployed_again(
        knative_cluster: KnativeCluster, api: client.ApiClient,
        storage_config: dict[str, Any]) -> None:
    compute = knative_cluster.compute(storage_config, runtime_memory=448)
    spec = compute.manager.spec(RUNTIME_IMAGE, 448)
    old = service_manifest(spec)  # as a wren before issue 12 wrote it: no token
    container = old["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "WREN_RUNTIME_TOKEN"]
    client.CoreV1Api(api).create_namespaced_secret(NAMESPACE, {
        "metadata": {"name": f"{spec.name}-storage"},
        "stringData": {"storage-config": json.dumps(storage_config)}})
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        "serving.knative.dev", "v1", NAMESPACE, "services", old)
    try:
        assert compute.runtime_info().python_version
        service = read_service(api, spec.name)
        names = {e["name"] for e in service["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert "WREN_RUNTIME_TOKEN" in names
        assert compute.route(448).token == secret_token(api, spec.name)
    finally:
        compute.delete_runtime(RUNTIME_IMAGE, memory=448)


def test_a_cluster_local_runtime_is_reached_at_its_cluster_local_name(
        knative_cluster: KnativeCluster, api: client.ApiClient,
        storage_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 15: the public gateway does not serve cluster-local names (it answers 404, as
    # Knative's does); the way in from outside is Knative's local gateway (port-forwarded)
    config = {"knative": knative_cluster.knative_config(
                  visibility="cluster-local", runtime_memory=576,
                  ingress_endpoint=knative_cluster.local_ingress_url),
              "localhost": storage_config}
    try:
        with wren.FunctionExecutor(backend="knative", storage="localhost",
                                   config=config) as fexec:
            assert fexec.get_result(fexec.map(fn.double, [1, 2, 3])) == [2, 4, 6]
            route = fexec.compute.route()  # type: ignore[attr-defined]
        assert route.host == f"{route.service}.{NAMESPACE}.svc.cluster.local"
        service = read_service(api, route.service)
        assert service["metadata"]["labels"][VISIBILITY_LABEL] == "cluster-local"
        assert requests.post(knative_cluster.ingress_url + "/", headers={
            "Host": route.host}, timeout=10).status_code == 404
        # without an endpoint, outside the cluster: an error that names the ways in
        outside = knative_cluster.compute(storage_config, visibility="cluster-local",
                                          runtime_memory=576)
        with pytest.raises(KnativeError, match=r"cluster-local.*kubectl port-forward -n "
                                               r"kourier-system svc/kourier-internal"):
            outside.route()
        # inside the cluster, requests go to the Service's cluster-local address
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
        direct = knative_cluster.compute(storage_config, visibility="cluster-local",
                                         runtime_memory=576)
        assert direct.route().endpoint == f"http://{route.service}.{NAMESPACE}.svc.cluster.local"
    finally:
        knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, memory=576)

"""Issue 15: `knative` against what real clusters do on first contact, on the API double.

Addressing: a cluster with no domain configured (Knative's default since 1.9 gives every
Service a `*.svc.cluster.local` URL, which the public gateway answers 404 for), a
`cluster-local` Service, and a cluster whose gateway redirects http to https. Autoscaler
visibility: a task's request stays open (and counted in flight at its revision, as Knative's
queue-proxy counts it) while the task runs, without holding a dispatch thread; long tasks go
async. The double refuses what Knative's CRD schema refuses and prunes what it does not know.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import wren
from kubernetes import client
from wren.protocol.task import Task
from wren.testing import functions as fn
from wren_backend_knative import KnativeError, RuntimeDeployError
from wren_backend_knative.manifest import service_manifest

from tests.servers.knative_cluster import (
    MISSING_IMAGE,
    NAMESPACE,
    OTHER_RUNTIME_IMAGE,
    RUNTIME_IMAGE,
    KnativeCluster,
    api,
    default_domain_cluster,
    knative_cluster,
    read_service,
    redirected_cluster,
    storage_config,
)

__all__ = ["api", "default_domain_cluster", "knative_cluster", "redirected_cluster",
           "storage_config"]


def _executor(cluster: KnativeCluster, storage: dict[str, Any],
              **knative: Any) -> wren.FunctionExecutor:
    config = {"knative": cluster.knative_config(**knative), "localhost": storage}
    return wren.FunctionExecutor(backend="knative", storage="localhost", config=config)


# Addressing -------------------------------------------------------------------------------
def test_a_cluster_without_a_domain_is_a_clear_error_outside_it(
        default_domain_cluster: KnativeCluster, storage_config: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    compute = default_domain_cluster.compute(storage_config, runtime_memory=192)
    try:
        with pytest.raises(KnativeError, match=r"no domain is configured.*svc\.cluster\.local"
                                               r".*config-domain.*kourier-internal") as error:
            compute.route()
        service = compute.manager.cluster.get_service(compute.manager.spec(RUNTIME_IMAGE).name)
        url = service["status"]["url"]
        assert url.endswith(f".{NAMESPACE}.svc.cluster.local") and url in str(error.value)
        # what wren sent before: the gateway with that Host, which Knative answers 404
        assert requests.get(default_domain_cluster.ingress_url + "/healthz", timeout=10,
                            headers={"Host": url.split("//")[1]}).status_code == 404
    finally:
        compute.delete_runtime(RUNTIME_IMAGE)


def test_a_cluster_without_a_domain_through_the_local_gateway(
        default_domain_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    with _executor(default_domain_cluster, storage_config, runtime_memory=208,
                   ingress_endpoint=default_domain_cluster.local_ingress_url) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [1, 2, 3]), timeout=60) == [2, 4, 6]
        route = fexec.compute.route()  # type: ignore[attr-defined]
        assert route.endpoint == default_domain_cluster.local_ingress_url
        assert route.host.endswith(".svc.cluster.local")
    default_domain_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE)


def test_inside_the_cluster_wren_sends_to_the_service_url(
        default_domain_cluster: KnativeCluster, storage_config: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")  # as in a pod
    compute = default_domain_cluster.compute(storage_config, runtime_memory=224)
    try:
        route = compute.route()
        assert route.endpoint == f"http://{route.host}"
        assert route.host == f"{route.service}.{NAMESPACE}.svc.cluster.local"
    finally:
        compute.delete_runtime(RUNTIME_IMAGE)


def test_a_redirecting_cluster_is_reached_over_https_with_its_ca(
        redirected_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    assert redirected_cluster.ca_file is not None
    with _executor(redirected_cluster, storage_config, runtime_memory=240,
                   ingress_ca=str(redirected_cluster.ca_file)) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [4, 5]), timeout=60) == [8, 10]
        route = fexec.compute.route()  # type: ignore[attr-defined]
        assert route.endpoint == f"https://127.0.0.1:{redirected_cluster.tls_ingress_port}"
        # plain http is redirected, as Knative's gateway does with http-protocol Redirected
        moved = requests.get(redirected_cluster.ingress_url + "/healthz", timeout=10,
                             allow_redirects=False, headers={"Host": route.host})
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"https://{route.host}/healthz"
    # an http endpoint set by hand meets the redirect, and the error names the fix
    by_hand = redirected_cluster.compute(storage_config, runtime_memory=240,
                                         ingress_endpoint=redirected_cluster.ingress_url)
    with pytest.raises(KnativeError, match=r"HTTP 301.*http-protocol.*Redirected"):
        by_hand.runtime_info()
    # without the cluster's CA the gateway's certificate is not trusted
    untrusting = redirected_cluster.compute(storage_config, runtime_memory=240)
    with pytest.raises(KnativeError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.runtime_info()
    untrusting.delete_runtime(RUNTIME_IMAGE)


# Autoscaler visibility ----------------------------------------------------------------------
def _running(cluster: KnativeCluster, service: str) -> dict[str, Any]:
    [revision] = [r for r in cluster.revisions() if r["service"] == service]
    return revision


@pytest.mark.parametrize(("mode", "counted"), [("auto", 1), ("async", 0)])
def test_a_running_task_is_in_flight_at_its_revision(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any], mode: str,
        counted: int) -> None:
    with _executor(knative_cluster, storage_config, runtime_memory=288, invoke_mode=mode,
                   concurrency=2) as fexec:
        compute: Any = fexec.compute
        name = compute.route().service
        fexec.call_async(fn.double, 0).result(timeout=60)  # a warm runtime
        started = time.monotonic()
        futures = fexec.map(fn.sleep_for, [3.0], timeout=60)
        assert compute.wait_dispatched(10)
        assert time.monotonic() - started < 2.5  # the dispatch thread did not wait
        time.sleep(1.0)
        assert _running(knative_cluster, name)["in_flight"] == counted
        assert compute.http.holder.held == counted
        assert fexec.get_result(futures, timeout=60) == [3.0]
        deadline = time.monotonic() + 10
        while _running(knative_cluster, name)["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _running(knative_cluster, name)["in_flight"] == 0
        assert compute.http.holder.held == 0
    knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, 288)


def test_auto_holds_what_fits_in_the_revision_timeout(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    compute: Any = knative_cluster.compute(storage_config, runtime_memory=304,
                                           runtime_timeout=300)

    def task(timeout: float, calls: int) -> Task:
        return Task("exec/M000", "t0", "f", range(calls), (0, 0), "localhost", {}, "wren",
                    timeout=timeout)

    hold: Callable[[Task], float | None] = compute.hold_for
    try:
        assert hold(task(60, 4)) == 285  # 240 s at most: held, released 15 s before 300
        assert hold(task(1800, 1)) is None  # may outlast the revision's timeout: async
        compute.config = {**compute.config, "invoke_mode": "hold"}
        assert hold(task(1800, 1)) == 285
        compute.config = {**compute.config, "invoke_mode": "async"}
        assert hold(task(1, 1)) is None
    finally:
        compute.delete_runtime(RUNTIME_IMAGE)


@pytest.mark.parametrize(("timeout", "margin", "ends", "memory"), [
    (20, 17.0, 3.0, 320),  # the runtime releases the hold 17 s before a 20 s timeout
    (5, -10.0, 5.0, 336),  # a hold of 15 s is cut by Knative at timeoutSeconds (5 s)
], ids=["released-by-the-runtime", "cut-by-knative"])
def test_a_hold_that_ends_before_its_task_loses_nothing(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch, timeout: int, margin: float, ends: float,
        memory: int) -> None:
    """The task runs on after its hold ended (it reports through storage), and the client
    lets go of the answer."""
    from wren_backend_knative import compute as compute_module

    monkeypatch.setattr(compute_module, "HOLD_MARGIN", margin)
    with _executor(knative_cluster, storage_config, runtime_memory=memory,
                   runtime_timeout=timeout, invoke_mode="hold") as fexec:
        compute: Any = fexec.compute
        name = compute.route().service
        futures = fexec.map(fn.sleep_for, [ends + 2], timeout=60)
        time.sleep(1.5)
        assert _running(knative_cluster, name)["in_flight"] == 1
        time.sleep(ends)
        assert _running(knative_cluster, name)["in_flight"] == 0
        assert compute.http.holder.held == 0
        assert fexec.get_result(futures, timeout=60) == [ends + 2]
    knative_cluster.compute(storage_config).delete_runtime(RUNTIME_IMAGE, memory)


# The double is as strict as Knative ----------------------------------------------------------
def test_services_are_checked_against_knatives_schema(
        knative_cluster: KnativeCluster, api: client.ApiClient,
        storage_config: dict[str, Any]) -> None:
    objects = client.CustomObjectsApi(api)
    spec = knative_cluster.compute(storage_config).manager.spec(OTHER_RUNTIME_IMAGE, 352)
    body = service_manifest(spec)
    body["spec"]["template"]["spec"]["containerConcurrency"] = "4"
    with pytest.raises(client.ApiException) as refused:
        objects.create_namespaced_custom_object("serving.knative.dev", "v1", NAMESPACE,
                                                "services", body)
    assert refused.value.status == 422
    assert "spec.template.spec.containerConcurrency" in str(refused.value.body)
    assert "is not of type 'integer'" in str(refused.value.body)
    body = service_manifest(spec)
    body["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    body["spec"]["template"]["metadata"]["annotations"][
        "autoscaling.knative.dev/scale-down-delay"] = "2h"
    with pytest.raises(client.ApiException, match="scale-down-delay"):
        objects.create_namespaced_custom_object("serving.knative.dev", "v1", NAMESPACE,
                                                "services", body)
    del body["spec"]["template"]["metadata"]["annotations"][
        "autoscaling.knative.dev/scale-down-delay"]
    objects.create_namespaced_custom_object("serving.knative.dev", "v1", NAMESPACE,
                                            "services", body)
    try:  # a field the schema does not know is dropped, as the API server does
        stored = read_service(api, spec.name)
        assert "imagePullPolicyy" not in stored["spec"]["template"]["spec"]["containers"][0]
    finally:
        objects.delete_namespaced_custom_object("serving.knative.dev", "v1", NAMESPACE,
                                                "services", spec.name)


def test_a_revision_that_cannot_pull_its_image_is_reported_at_once(
        knative_cluster: KnativeCluster, storage_config: dict[str, Any]) -> None:
    compute = knative_cluster.compute(storage_config, deploy_timeout=300)
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeDeployError, match=r"Ready=False \(RevisionFailed: Revision "
                                                     r".* Unable to fetch image"):
            compute.deploy_runtime(MISSING_IMAGE)
        assert time.monotonic() - started < 20  # not after deploy_timeout
    finally:
        compute.delete_runtime(MISSING_IMAGE)

"""`openwhisk` and `ibm_cf` against controller doubles of each flavour's published limits
(issue 15): a stock Apache OpenWhisk (128..512 MB, 300 s, 100 in flight, 120 a minute) and
IBM Cloud Functions (128..2048 MB, 600 s, 1000 in flight), listings longer than a page, and
429 storms from a namespace's concurrency limit, with `ibm_cos` on a real Ceph RADOS Gateway
and every activation in the real runtimes/ibmcf action proxy."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import wren
from wren.testing import functions as fn
from wren_backend_ibmcf import IbmCfCompute, IbmCosStorage
from wren_backend_ibmcf import runtimes as runtime_module
from wren_backend_ibmcf.compute import OpenWhiskCompute
from wren_backend_ibmcf.openwhisk_client import OpenWhiskError

from tests.doubles.openwhisk_handle import OpenWhiskDouble
from tests.servers.ceph import CephGateway, shared_gateway

BUCKET = "wren-ibmcf-limits"
StartDouble = Callable[..., OpenWhiskDouble]


@pytest.fixture(scope="session")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


@pytest.fixture(scope="module")
def cos_config(ceph_gateway: CephGateway) -> dict[str, Any]:
    config = ceph_gateway.ibm_cos_config(BUCKET)
    IbmCosStorage(config).create_bucket(BUCKET)
    return config


@pytest.fixture
def start_double(tmp_path: Path) -> Iterator[StartDouble]:
    started: list[OpenWhiskDouble] = []

    def start(**options: Any) -> OpenWhiskDouble:
        double = OpenWhiskDouble.start(tmp_path, **options)
        started.append(double)
        return double

    yield start
    for double in started:
        double.stop()


@pytest.fixture(scope="module")
def stock() -> Iterator[OpenWhiskDouble]:
    double = OpenWhiskDouble.start(flavour="stock", namespaces=250)
    yield double
    double.stop()


def executor(double: OpenWhiskDouble, cos: dict[str, Any], **compute: Any
             ) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="openwhisk", storage="ibm_cos", config={
        "openwhisk": double.openwhisk_config(**compute), "ibm_cos": cos})


def put_action(double: OpenWhiskDouble, name: str, memory: int, timeout_ms: int,
               package: str = "") -> requests.Response:
    path = f"{package}/{name}" if package else name
    auth = "Basic " + base64.b64encode(double.basic_key.encode()).decode()
    return requests.put(f"{double.url}/api/v1/namespaces/_/actions/{path}?overwrite=true",
                        json={"exec": {"kind": "blackbox", "image": double.image},
                              "limits": {"memory": memory, "timeout": timeout_ms},
                              "annotations": [{"key": "wren-image", "value": double.image}]},
                        headers={"Authorization": auth}, timeout=30)


# Limits of each flavour ---------------------------------------------------------------------
def test_the_stock_double_refuses_what_a_stock_openwhisk_refuses(stock: OpenWhiskDouble,
                                                                 start_double: StartDouble
                                                                 ) -> None:
    refused = put_action(stock, "too-long", 256, 600_000)
    assert refused.status_code == 400
    assert refused.json()["error"].endswith(
        "duration 600000 milliseconds exceeds allowed threshold of 300000 milliseconds")
    refused = put_action(stock, "too-big", 1024, 60_000)
    assert refused.status_code == 400 and "memory 1024 MB exceeds allowed threshold of 512 MB" \
        in refused.json()["error"] and "code" in refused.json()
    assert put_action(stock, "fits", 512, 300_000).status_code == 200
    ibm = start_double()  # IBM's limits: what stock refuses, IBM takes, up to its own
    assert put_action(ibm, "ibm-long", 2048, 600_000).status_code == 200
    assert put_action(ibm, "ibm-big", 4096, 60_000).status_code == 400


def test_openwhisk_defaults_deploy_and_run_on_a_stock_openwhisk(
        stock: OpenWhiskDouble, cos_config: dict[str, Any]) -> None:
    with executor(stock, cos_config) as fexec:  # runtime_timeout 300 by default
        assert fexec.get_result(fexec.map(fn.add, [(1, 2), (3, 4)])) == [3, 7]
        compute = fexec.compute
        assert isinstance(compute, OpenWhiskCompute) and compute.timeout_s == 300
        with pytest.raises(wren.ConfigError, match="between 128 and 512"):
            fexec.get_result(fexec.map(fn.double, [1], runtime_memory=1024))
    with pytest.raises(wren.ConfigError, match="runtime_timeout.*between 1 and 300"):
        executor(stock, cos_config, runtime_timeout=600)


# Listings longer than a page ----------------------------------------------------------------
def test_runtimes_are_listed_page_by_page(stock: OpenWhiskDouble,
                                          cos_config: dict[str, Any]) -> None:
    with executor(stock, cos_config) as fexec:
        compute = fexec.compute
        assert isinstance(compute, OpenWhiskCompute)
        compute.deploy_runtime("default", memory=128)
        before = len(compute.list_runtimes())
        for n in range(230):
            assert put_action(stock, f"extra-{n:03d}", 128, 60_000,
                              compute.runtimes.package).status_code == 200
        auth = {"Authorization": compute.client.auth.header()}
        url = f"{compute.client.base}/actions/{compute.runtimes.package}/"
        too_many = requests.get(url, params={"limit": "201"}, headers=auth, timeout=30)
        assert too_many.status_code == 400
        assert "is not in the range of 0 to 200" in too_many.json()["error"]
        first = requests.get(url, params={"limit": "0"}, headers=auth, timeout=30).json()
        assert len(first) == 200  # 0 means the maximum, not "everything"
        listed = compute.list_runtimes()
        assert len(listed) == before + 230 > 200
        compute.delete_runtime("all")
        assert compute.list_runtimes() == []


def test_an_iam_namespace_past_the_first_page_is_found(stock: OpenWhiskDouble) -> None:
    compute = IbmCfCompute({**stock.ibm_cf_config(), "iam_api_key": stock.iam_api_key},
                           wren.ports.WorkerStorage("ibm_cos", {}, {}))
    try:  # wren's namespace is the 251st the key may use
        assert compute.client.namespace == stock.iam_namespace_id
    finally:
        compute.close()


# 429 storms ---------------------------------------------------------------------------------
def test_a_storm_of_429_from_the_concurrency_limit_is_ridden_out(
        start_double: StartDouble, cos_config: dict[str, Any]) -> None:
    double = start_double(flavour="stock", limits={"concurrent": 2}, max_containers=2)
    with executor(double, cos_config, throttle_timeout=3.0) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [0])) == [0]  # deployed and warm
        futures = fexec.map(fn.sleep_then, [(0.6, n) for n in range(14)], chunksize=1)
        # ~5 s of work through 2 slots: many tasks are throttled longer than 3 s, yet the
        # namespace lets one through every ~0.3 s, so none fails.
        assert fexec.get_result(futures, timeout=120) == list(range(14))
        assert fexec.compute.dispatcher.throttled > 0  # type: ignore[attr-defined]
    assert double.stats()["throttled"] > 0


def test_a_namespace_that_lets_nothing_through_fails_the_calls_clearly(
        start_double: StartDouble, cos_config: dict[str, Any]) -> None:
    double = start_double(flavour="stock", limits={"concurrent": 1}, max_containers=1)
    with executor(double, cos_config, throttle_timeout=1.0, max_workers=40) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [0])) == [0]
        double.hold(True)  # the first activation stays in flight: the rest get 429
        try:
            futures = fexec.map(fn.double, range(3), chunksize=1)
            assert fexec.compute.wait_dispatched(30)  # type: ignore[attr-defined]
        finally:
            double.hold(False)
        fexec.wait(futures, throw_except=False, timeout=60)
        failed = [f for f in futures if f.error]
        assert len(failed) == 2
        with pytest.raises(wren.WorkerLostError) as caught:
            failed[0].result()
    message = str(caught.value)
    assert "Too many concurrent requests in flight (count: 2, allowed: 1)" in message
    assert "lower `max_workers` in the `openwhisk` section (now 40)" in message
    assert "100 activations at once" in message and "operator" in message


def test_reading_runtime_metadata_waits_out_a_busy_namespace(
        start_double: StartDouble, cos_config: dict[str, Any], home_dir: Path) -> None:
    double = start_double(flavour="stock", limits={"concurrent": 1}, max_containers=1)
    with executor(double, cos_config, throttle_timeout=2.0) as fexec:
        assert fexec.get_result(fexec.map(fn.double, [0])) == [0]
        compute = fexec.compute
        assert isinstance(compute, OpenWhiskCompute)
        runtime_module._metadata.clear()
        double.hold(True)
        fexec.map(fn.double, [1])  # held in flight: the namespace is full
        assert compute.wait_dispatched(30)
        try:  # still full after throttle_timeout: the 429 and its fix, not "cannot run"
            with pytest.raises(OpenWhiskError, match="HTTP 429: Too many concurrent.*"
                                                     "lower `max_workers`"):
                compute.runtimes._read_from_runtime(compute.runtime, runtime_module.action_name(
                    compute.runtime, compute.memory))
            release = threading.Timer(1.0, double.hold, args=(False,))
            release.start()  # freed within throttle_timeout: the metadata arrives
            info = compute.runtimes._read_from_runtime(compute.runtime,
                                                       runtime_module.action_name(
                                                           compute.runtime, compute.memory))
            release.join()
            assert info["wren_version"] == wren.__version__
        finally:
            double.hold(False)

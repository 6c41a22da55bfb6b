"""Each OpenWhisk flavour's published limits (issue 15): the config schemas' bounds and
defaults, the check before deploying, the 429 hint, and the one-time notice that IBM Cloud
Functions is retired. No server: where a request would go, the endpoint is a closed port."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from wren import ConfigError
from wren.config import load_config
from wren.ports import WorkerStorage
from wren_backend_ibmcf import retired
from wren_backend_ibmcf.compute import IbmCfCompute, OpenWhiskCompute
from wren_backend_ibmcf.config import IBM_LIMITS, STOCK_LIMITS

STORAGE = WorkerStorage("ibm_cos", {"secret_access_key": "s"}, {})
CLOSED = "http://127.0.0.1:9"  # nothing listens: any request would fail to connect


def load(backend: str, **section: Any) -> dict[str, Any]:
    return load_config({backend: section}, backend=backend, storage="ibm_cos",
                       read_files=False).compute


def test_defaults_are_within_each_platforms_limits() -> None:
    ibm, stock = load("ibm_cf"), load("openwhisk")
    assert (ibm["runtime_timeout"], stock["runtime_timeout"]) == (600, 300)
    assert ibm["max_workers"] <= IBM_LIMITS.concurrent == 1000
    assert stock["max_workers"] <= STOCK_LIMITS.concurrent == 100
    assert ibm["runtime_memory"] == stock["runtime_memory"] == 256


@pytest.mark.parametrize(("backend", "key", "value", "words"), [
    ("ibm_cf", "runtime_memory", 4096, "between 128 and 2048 (IBM Cloud Functions"),
    ("ibm_cf", "runtime_memory", 64, "between 128 and 2048"),
    ("ibm_cf", "runtime_timeout", 601, "between 1 and 600 (IBM Cloud Functions"),
    ("openwhisk", "runtime_memory", 1024, "between 128 and 512 (Apache OpenWhisk"),
    ("openwhisk", "runtime_timeout", 600, "between 1 and 300 (Apache OpenWhisk"),
])
def test_values_beyond_the_platform_are_refused_when_read(backend: str, key: str, value: int,
                                                          words: str) -> None:
    with pytest.raises(ConfigError, match=rf"key '{key}' in section '{backend}' is {value}"
                                          rf".*{words.replace('(', '[(]')}"):
        load(backend, **{key: value})
    assert load("ibm_cf", runtime_memory=2048, runtime_timeout=600)["runtime_memory"] == 2048
    assert load("openwhisk", runtime_memory=512, runtime_timeout=300)["runtime_timeout"] == 300


def openwhisk(**extra: Any) -> OpenWhiskCompute:
    return OpenWhiskCompute({"endpoint": CLOSED, "api_key": "a:b",
                             "runtime": "example/runtime:1", **extra}, STORAGE)


def test_deploying_beyond_the_limits_fails_before_any_request() -> None:
    compute = openwhisk()
    try:
        with pytest.raises(ConfigError, match="between 128 and 512 .Apache OpenWhisk"):
            compute.deploy_runtime("default", memory=1024)
        with pytest.raises(ConfigError, match="'runtime_timeout'.*between 1 and 300"):
            compute.deploy_runtime("default", memory=512, timeout=600)
        with pytest.raises(ConfigError, match="between 128 and 512"):  # map(runtime_memory=)
            compute._action(2048)
    finally:
        compute.close()
    with pytest.raises(ConfigError, match="between 1 and 300"):  # built without the loader
        openwhisk(runtime_timeout=600)


def test_the_429_hint_names_the_limit_and_the_fix() -> None:
    compute = openwhisk(max_workers=80)
    try:
        problem = compute.client.explain(429, {"error": "Too many concurrent requests in "
                                                        "flight (count: 101, allowed: 100)."},
                                         "invoking x")
    finally:
        compute.close()
    assert "HTTP 429: Too many concurrent requests in flight" in problem
    assert "100 activations at once and 120 invocations per minute" in problem
    assert "lower `max_workers` in the `openwhisk` section (now 80)" in problem
    assert "operator of your OpenWhisk to raise" in problem
    assert "ask IBM support" in IBM_LIMITS.throttle_hint("ibm_cf", 1000)


def ibm_cf(endpoint: dict[str, str]) -> IbmCfCompute:
    # namespace_id given and IAM asked only on the first request: nothing is sent here.
    return IbmCfCompute({**endpoint, "namespace_id": "ns-id", "iam_api_key": "k",
                         "runtime": "example/runtime:1"}, STORAGE)


def test_ibm_endpoints_log_the_retirement_notice_once(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    retired._reset()
    caplog.set_level(logging.WARNING, logger="wren")
    for config in ({"endpoint": CLOSED}, {"endpoint": "https://ow.example.com"}):
        ibm_cf(config).close()  # a self-hosted OpenWhisk behind `ibm_cf`: no notice
    assert not [r for r in caplog.records if "retired" in r.getMessage()]
    ibm_cf({"region": "us-south"}).close()
    ibm_cf({"endpoint": "https://eu-de.functions.appdomain.cloud"}).close()
    notices = [r for r in caplog.records if "retired" in r.getMessage()]
    assert len(notices) == 1 and notices[0].levelno == logging.WARNING
    assert "code_engine" in notices[0].getMessage() and "openwhisk" in notices[0].getMessage()
    assert retired.is_ibm_functions("https://us-south.functions.cloud.ibm.com/api/v1")
    assert not retired.is_ibm_functions("https://functions.cloud.ibm.com.evil.example")
    retired._reset()

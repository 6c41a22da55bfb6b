"""`code_engine` pieces that need no API: documented sizes, names, notation, errors, cost.
The adapter against the API double and real containers: tests/integration/test_code_engine.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from ibm_cloud_sdk_core import ApiException
from wren import ConfigError
from wren.dispatch import Refused, Throttled, Unavailable
from wren.ports import WorkerStorage
from wren_backend_ibmcf.auth import AuthError
from wren_backend_ibmcf.code_engine import CodeEngineCompute
from wren_backend_ibmcf.code_engine.api import _outcome
from wren_backend_ibmcf.code_engine.config import (
    CODE_ENGINE_SCHEMA,
    COMBINATIONS,
    check_resources,
    default_runtime,
)
from wren_backend_ibmcf.code_engine.runtimes import RuntimeManager, memory_limit, memory_of

STORAGE = WorkerStorage("ibm_cos", {"storage_bucket": "b", "secret_access_key": "s"},
                        {"storage_bucket": "b"})


def compute(**config: Any) -> CodeEngineCompute:
    return CodeEngineCompute({"endpoint": "http://127.0.0.1:9/v2", "iam_api_key": "k",
                              "iam_endpoint": "http://127.0.0.1:9/identity/token",
                              "runtime": "me/rt:1", **config}, STORAGE)


def test_every_documented_combination_is_accepted_and_others_are_not() -> None:
    for cpu, memories in COMBINATIONS.items():
        for memory in memories:
            check_resources(cpu, memory)
    with pytest.raises(ConfigError, match="with 2 vCPU `runtime_memory` must be one of "
                                          "4096, 8192, 16384 MB"):
        check_resources(2, 2048)
    with pytest.raises(ConfigError, match="no 3 vCPU size.*0.125, 0.25, 0.5, 1, 2, 4, 6, 8"):
        check_resources(3, 4096)


def test_the_schema_bounds_cite_the_docs() -> None:
    with pytest.raises(ConfigError, match="between 256 and 32768.*mem-cpu-combo"):
        CODE_ENGINE_SCHEMA.validate({"runtime_memory": 40000})
    with pytest.raises(ConfigError, match="86400.*codeengine-limits"):
        CODE_ENGINE_SCHEMA.validate({"runtime_timeout": 100000})


def test_a_bad_size_fails_when_the_backend_is_made_before_any_request() -> None:
    with pytest.raises(ConfigError, match="0.5 vCPU with 256 MB"):
        compute(runtime_cpu=0.5, runtime_memory=256)


def test_no_request_before_the_project_is_needed() -> None:
    made = compute()  # nothing listens on port 9: making it must not call the API
    assert made.default_runtime_name() == default_runtime()
    with pytest.raises(AuthError, match="cannot reach the IAM token endpoint"):
        _ = made.runtimes
    made.close()


def test_memory_notation_round_trips() -> None:
    for memory in (256, 512, 1024, 4096, 12288, 32768):
        assert memory_of(memory_limit(memory)) == memory
    assert memory_limit(256) == "0.25G" and memory_of("512M") == 512
    assert memory_of("lots") is None


def test_job_names_are_valid_code_engine_names() -> None:
    names = RuntimeManager(None, "p", {}, cpu=0.125, timeout=600,  # type: ignore[arg-type]
                           registry_secret=None, processes=1)
    for image in ("me/rt:1", "us.icr.io/A_b/Very.Long-Image_Name-" + "x" * 80 + ":tag"):
        name = names.job_name(image, 32768)
        assert len(name) <= 63 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name), name
    assert names.job_name("a/b:1", 256) != names.job_name("a/b:2", 256)


def _api_error(code: int, headers: dict[str, str] | None = None) -> ApiException:
    response = requests.Response()
    response.status_code = code
    response.headers.update(headers or {})
    response._content = b'{"errors": [{"message": "nope"}]}'
    return ApiException(code, http_response=response)


def test_answers_become_dispatch_outcomes() -> None:
    throttled = _outcome("create_job_run", _api_error(429, {"Retry-After": "3"}))
    assert isinstance(throttled, Throttled) and throttled.retry_after == 3
    assert isinstance(_outcome("create_job_run", _api_error(503)), Unavailable)
    refused = _outcome("create_job_run", _api_error(403))
    assert isinstance(refused, Refused) and "HTTP 403" in refused.reason


def test_cost_is_the_list_price_of_vcpu_and_memory_seconds() -> None:
    made = compute(runtime_cpu=1, runtime_memory=4096)
    stats = {"worker_start_tstamp": 0.0, "worker_end_tstamp": 10.0, "worker_calls": 5}
    assert made.call_cost(stats, None) == pytest.approx((0.00003431 + 4 * 0.00000356) * 2)
    assert made.call_cost({}, None) is None


def test_lithops_code_engine_keys_carry_over_and_never_echo_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    from wren.config.loader import load_config

    config = load_config(config={
        "lithops": {"backend": "code_engine", "storage": "localhost"},
        "ibm": {"iam_api_key": "x", "region": "us-south"},
        "code_engine": {"docker_server": "us.icr.io", "docker_user": "iamapikey",
                        "docker_password": "pa55-word", "runtime_cpu": 0.5,
                        "runtime_memory": 1024}})
    assert (config.compute_backend, config.compute["runtime_cpu"]) == ("code_engine", 0.5)
    assert config.compute["region"] == "us-south" and "docker_user" not in config.compute
    assert "registry_secret" in caplog.text and "pa55-word" not in caplog.text

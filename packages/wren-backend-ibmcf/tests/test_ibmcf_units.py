"""Unit tests of wren-backend-ibmcf that need no server: config sections, names, the code
bundle, multipart slicing, the action's entry point and early config errors."""

from __future__ import annotations

import io
import sys
import zipfile
from typing import Any

import pytest
from wren import ConfigError
from wren.config import load_config
from wren.ports import WorkerStorage
from wren_backend_ibmcf import action, multipart
from wren_backend_ibmcf.auth import BasicAuth
from wren_backend_ibmcf.bundle import build_bundle
from wren_backend_ibmcf.compute import IbmCfCompute, OpenWhiskCompute
from wren_backend_ibmcf.config import default_runtime
from wren_backend_ibmcf.runtimes import action_name, package_name

STORAGE = WorkerStorage("ibm_cos", {"secret_access_key": "s"}, {})


def test_the_ibm_section_feeds_ibm_cf_and_ibm_cos() -> None:
    config = load_config({"ibm": {"iam_api_key": "shared", "region": "eu-de"},
                          "ibm_cf": {"namespace": "ns"},
                          "ibm_cos": {"storage_bucket": "b", "region": "us-south"}},
                         backend="ibm_cf", storage="ibm_cos", read_files=False)
    assert config.compute["iam_api_key"] == "shared" and config.compute["region"] == "eu-de"
    assert config.compute["runtime_memory"] == 256 and config.compute["namespace"] == "ns"
    assert config.storage["iam_api_key"] == "shared"
    assert config.storage["region"] == "us-south"  # its own value wins


def test_lithops_keys_are_accepted_and_typos_are_named() -> None:
    load_config({"ibm_cos": {"access_key": "a", "secret_key": "b", "storage_bucket": "x"},
                 "ibm_cf": {"remote_invoker": True, "invoke_pool_threads": 8}},
                backend="ibm_cf", storage="ibm_cos", read_files=False)
    with pytest.raises(ConfigError, match="unknown key 'runtime_memmory'.*'runtime_memory'"):
        load_config({"ibm_cf": {"runtime_memmory": 512}}, backend="ibm_cf",
                    storage="ibm_cos", read_files=False)


def test_default_runtime_per_python() -> None:
    assert default_runtime("3.12").startswith("wren/ibmcf-python312:")  # type: ignore[union-attr]
    assert default_runtime("3.9") is None
    local = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert default_runtime() == default_runtime(local)


def test_names_encode_image_memory_version_and_credentials() -> None:
    name = action_name("docker.io/me/wren-rt:1.2", 512)
    assert name.startswith("docker.io-me-wren-rt-1.2_512MB_wren")
    assert all(c.isalnum() or c in "_.-" for c in name)
    assert package_name({"a": 1}) == package_name({"a": 1}) != package_name({"a": 2})
    assert package_name({"a": 1}).startswith("wren_")


def test_bundle_is_deterministic_and_carries_wren_and_its_entry_points() -> None:
    bundle = build_bundle("ibm_cos")
    build_bundle.cache_clear()
    assert build_bundle("ibm_cos") == bundle
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as zipped:
        names = set(zipped.namelist())
        main = zipped.read("__main__.py").decode()
        points = [zipped.read(n).decode() for n in names if n.endswith("entry_points.txt")]
    assert "from wren_backend_ibmcf.action import main" in main
    assert {"wren/__init__.py", "wren/worker/runner.py",
            "wren_backend_ibmcf/action.py"} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert any("ibm_cos = wren_backend_ibmcf.storage:IbmCosStorage" in p for p in points)


@pytest.mark.parametrize("size", [0, 1, 9, 10, 11, 35])
def test_multipart_slices_bytes_and_files_alike(size: int) -> None:
    body = bytes(range(size))
    from_bytes = [bytes(p) for p in multipart.iter_parts(body, 10)]
    stream = io.BytesIO(body)
    first = stream.read(4)
    from_file = [bytes(p) for p in multipart.iter_parts(stream, 10, first)]
    assert b"".join(from_bytes) == body == b"".join(from_file)
    assert all(len(p) == 10 for p in from_bytes[:-1])
    assert all(len(p) >= 10 for p in from_file[:-1])


def test_action_main_reports_its_runtime_and_refuses_other_payloads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WREN_WORKER", "0")  # main() marks its process as a worker
    info = action.main({"wren_runtime_info": True})
    assert info["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert {"wren", "json", "ibm_boto3"} <= set(info["preinstalled_modules"])
    assert "error" in action.main({"something": "else"})


@pytest.mark.parametrize(("cls", "config", "message"), [
    (OpenWhiskCompute, {}, "needs `endpoint`"),
    (IbmCfCompute, {}, "set `endpoint` or `region`"),
    (IbmCfCompute, {"region": "us-south"}, "no credentials for `ibm_cf`"),
    (IbmCfCompute, {"region": "us-south", "api_key": "a:b"}, "set `namespace`"),
    (IbmCfCompute, {"region": "us-south", "iam_api_key": "k"}, "`namespace` \\(its name\\)"),
])
def test_compute_config_errors_come_before_any_request(cls: Any, config: dict[str, Any],
                                                       message: str) -> None:
    if "iam_api_key" in config:  # the namespace is checked before IAM is asked
        config = {**config, "iam_endpoint": "http://127.0.0.1:1/identity/token"}
    with pytest.raises(ConfigError, match=message):
        cls(config, STORAGE)


def test_basic_auth_wants_a_uuid_key_pair() -> None:
    with pytest.raises(ConfigError, match="uuid:key"):
        BasicAuth("just-a-key")
    assert BasicAuth("u:k").header() == "Basic dTpr"


def test_worker_credentials_come_from_parameters_or_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bound = {"wren_storage": {"backend": "ibm_cos", "config": {"secret_access_key": "p"}}}
    assert action._private(bound, action.STORAGE_PARAM) == {"secret_access_key": "p"}
    monkeypatch.setenv("WREN_STORAGE_CONFIG", '{"secret_access_key": "e"}')
    assert action._private({}, action.STORAGE_PARAM) == {"secret_access_key": "e"}
    assert action._private({}, action.COMPUTE_PARAM) == {}


@pytest.mark.parametrize(("n_calls", "max_workers", "chunksize"), [
    (10_000, 1200, 11),  # even split 9 per activation: a quarter more -> 910 activations
    (100_000, 1200, 84),  # 84 per activation already: the even split
    (1_000, 1200, 1),  # fewer calls than activations: one each, long calls stay parallel
    (3_600, 1200, 3),  # 3 per activation: no slack below 4
    (4_800, 1200, 5),  # 4 per activation: one more
])
def test_activations_group_calls_toward_the_storage_cost_target(
        n_calls: int, max_workers: int, chunksize: int) -> None:
    compute = OpenWhiskCompute({"endpoint": "http://127.0.0.1:9", "api_key": "a:b",
                                "runtime": "example/runtime:1", "max_workers": max_workers},
                               STORAGE)
    try:
        assert compute.plan_chunksize(n_calls) == chunksize
        even = -(-n_calls // max_workers)
        assert chunksize <= max(even, even * 1.25)  # an activation runs at most 25% longer
    finally:
        compute.close()

"""`ibm_cf` and `openwhisk` compute through the OpenWhisk controller double, with `ibm_cos`
storage on a real Ceph RADOS Gateway: the whole executor contract, then what is particular to
these backends (credentials, 429/401/404, runtimes, the remote invoker). Every activation runs
in the real runtimes/ibmcf action proxy, as its own process on loopback."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
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
from wren_backend_ibmcf import runtimes as runtime_module
from wren_backend_ibmcf.auth import AuthError, IamAuth
from wren_backend_ibmcf.openwhisk_client import OpenWhiskError

from tests.doubles.openwhisk_handle import OpenWhiskDouble, running_double
from tests.servers.ceph import CephGateway, shared_gateway

BUCKET = "wren-ibmcf"
MakeExecutor = Callable[..., wren.FunctionExecutor]


@pytest.fixture(scope="session")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


@pytest.fixture(scope="session")
def openwhisk_double() -> Iterator[OpenWhiskDouble]:
    # Blocking invocations give up after 8 s instead of OpenWhisk's 60, to test that path.
    yield from running_double(blocking_wait=8)


@pytest.fixture(scope="module")
def cos_config(ceph_gateway: CephGateway) -> dict[str, Any]:
    config = ceph_gateway.ibm_cos_config(BUCKET)
    IbmCosStorage(config).create_bucket(BUCKET)
    return config


@pytest.fixture
def make_executor(openwhisk_double: OpenWhiskDouble, cos_config: dict[str, Any]
                  ) -> Iterator[MakeExecutor]:
    made: list[wren.FunctionExecutor] = []

    def make(backend: str = "ibm_cf", compute: dict[str, Any] | None = None,
             cos: dict[str, Any] | None = None, **overrides: Any) -> wren.FunctionExecutor:
        if backend == "ibm_cf":
            section = openwhisk_double.ibm_cf_config(**(compute or {}))
        else:
            section = openwhisk_double.openwhisk_config(**(compute or {}))
        config = {"ibm": {"iam_api_key": openwhisk_double.iam_api_key}, backend: section,
                  "ibm_cos": {**cos_config, **(cos or {})}}
        executor = wren.FunctionExecutor(backend=backend, storage="ibm_cos", config=config,
                                         **overrides)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.close()


class IbmCfBinding:
    """Binds the executor suites to this module's `make_executor` fixture (`ibm_cf`)."""

    @pytest.fixture
    def make_executor(self, make_executor: MakeExecutor) -> MakeExecutor:
        return make_executor


class TestIbmCfExecutor(IbmCfBinding, ExecutorContract):
    pass


class TestIbmCfWorkerFailures(IbmCfBinding, WorkerFailureContract):
    pass


class TestIbmCfDataProcessing(IbmCfBinding, DataProcessingContract):
    pass


class TestIbmCfCompute(IbmCfBinding, ComputeBackendContract):
    pass


# Credentials ------------------------------------------------------------------------------
def test_payloads_never_carry_credentials(make_executor: MakeExecutor,
                                          openwhisk_double: OpenWhiskDouble,
                                          ceph_gateway: CephGateway) -> None:
    fexec = make_executor()
    before = len(openwhisk_double.invocations())
    assert fexec.get_result(fexec.map(fn.double, range(5), chunksize=1)) == [0, 2, 4, 6, 8]
    bodies = [i["body"] for i in openwhisk_double.invocations(before)]
    assert sum("wren_task" in b for b in bodies) == 5
    secrets = (ceph_gateway.secret_key, ceph_gateway.access_key, openwhisk_double.iam_api_key)
    for body in bodies:
        assert not any(secret in body for secret in secrets), body[:300]
    # The workers got them from the action's default parameters instead.
    compute = fexec.compute
    name = runtime_module.action_name(compute.runtime, compute.memory)
    url = compute.client.action_url(compute.runtimes.package, name)
    _, action = compute.client.call("GET", url, "read")
    bound = {p["key"]: p["value"] for p in action["parameters"]}
    assert bound["wren_storage"]["config"]["secret_access_key"] == ceph_gateway.secret_key
    assert "wren_compute" not in bound


def test_wrong_storage_secret_fails_before_invoking(make_executor: MakeExecutor,
                                                    openwhisk_double: OpenWhiskDouble) -> None:
    before = openwhisk_double.stats()["requests"]
    with pytest.raises(wren.StorageError, match="SignatureDoesNotMatch"):
        make_executor(cos={"secret_access_key": "wrong-" + "x" * 34})
    assert openwhisk_double.stats()["requests"] == before + 1  # only the stats call


def test_wrong_iam_key_and_unknown_namespace_are_clear(make_executor: MakeExecutor) -> None:
    with pytest.raises(AuthError, match="IAM refused the API key"):
        make_executor(compute={"iam_api_key": "not-a-key"})
    with pytest.raises(wren.ConfigError, match="no IAM namespace named 'nope'.*wren-ci"):
        make_executor(compute={"namespace": "nope"})


def test_openwhisk_with_basic_auth(make_executor: MakeExecutor) -> None:
    fexec = make_executor("openwhisk")
    assert fexec.get_result(fexec.map(fn.add, [(1, 2), (3, 4)])) == [3, 7]
    wrong = make_executor("openwhisk", compute={"api_key": "0000:bad"})
    with pytest.raises(OpenWhiskError, match="rejected the Basic credentials"):
        wrong.map(fn.double, [1])


def warm(make_executor: MakeExecutor, **overrides: Any) -> wren.FunctionExecutor:
    """An executor whose runtime is deployed and has a warm container."""
    fexec = make_executor(**overrides)
    assert fexec.get_result(fexec.map(fn.double, [0])) == [0]
    return fexec


def test_the_seed_alias_runs_on_ibm_cf(openwhisk_double: OpenWhiskDouble,
                                       cos_config: dict[str, Any]) -> None:
    config = {"ibm": {"iam_api_key": openwhisk_double.iam_api_key},
              "ibm_cf": openwhisk_double.ibm_cf_config(), "ibm_cos": cos_config}
    with wren.ibm_cf_executor(config=config) as fexec:
        assert (fexec.backend, fexec.storage_backend_name) == ("ibm_cf", "ibm_cos")
        assert fexec.call_async(fn.add, (20, 22)).result() == 42


# Throttling, expired tokens, missing actions --------------------------------------------
def test_429_is_retried_with_backoff(make_executor: MakeExecutor,
                                     openwhisk_double: OpenWhiskDouble) -> None:
    fexec = warm(make_executor)
    openwhisk_double.inject(429, count=6, path="/actions/", method="POST")
    futures = fexec.map(fn.double, range(4), chunksize=1)
    assert fexec.get_result(futures) == [0, 2, 4, 6]
    assert fexec.compute.dispatcher.throttled >= 6
    assert openwhisk_double.stats()["faults_pending"] == 0


def test_persistent_429_fails_the_calls_clearly(make_executor: MakeExecutor,
                                                openwhisk_double: OpenWhiskDouble) -> None:
    fexec = warm(make_executor, compute={"throttle_timeout": 1.0})
    openwhisk_double.inject(429, count=100000, path="/actions/", method="POST")
    try:
        started = time.monotonic()
        futures = fexec.map(fn.double, range(3), chunksize=1)
        with pytest.raises(wren.WorkerLostError, match="HTTP 429") as caught:
            fexec.get_result(futures, timeout=60)
        assert "max_workers" in str(caught.value)
        assert time.monotonic() - started < 30
    finally:
        openwhisk_double.clear_faults()


def test_401_renews_the_iam_token(make_executor: MakeExecutor,
                                  openwhisk_double: OpenWhiskDouble) -> None:
    fexec = warm(make_executor)
    issued = openwhisk_double.stats()["tokens_issued"]
    assert openwhisk_double.expire_tokens() >= 1
    assert fexec.get_result(fexec.map(fn.double, range(3), chunksize=1)) == [0, 2, 4]
    assert openwhisk_double.stats()["tokens_issued"] > issued


def test_iam_token_is_renewed_before_it_expires(tmp_path: Path) -> None:
    double = OpenWhiskDouble.start(tmp_path, token_ttl=2)
    try:
        auth = IamAuth(double.iam_api_key, double.iam_url)
        first = auth.header()
        assert auth.header() == first
        time.sleep(1.8)  # inside the last fifth of its life: renewed before expiry
        assert auth.header() != first and auth.fetched == 2
        with pytest.raises(AuthError, match="fix `iam_api_key`"):
            IamAuth("unknown", double.iam_url).header()
    finally:
        double.stop()


def test_404_deploys_the_runtime_once_and_retries(make_executor: MakeExecutor,
                                                  openwhisk_double: OpenWhiskDouble) -> None:
    fexec = warm(make_executor)
    compute = fexec.compute
    url = compute.client.action_url(compute.runtimes.package,
                                    runtime_module.action_name(compute.runtime, compute.memory))
    gone = requests.delete(url, headers={"Authorization": compute.client.auth.header()},
                           timeout=30)
    assert gone.status_code == 200
    assert fexec.get_result(fexec.map(fn.double, range(6), chunksize=1)) == [0, 2, 4, 6, 8,
                                                                              10]
    assert requests.get(url, headers={"Authorization": compute.client.auth.header()},
                        timeout=30).status_code == 200


# Runtimes ---------------------------------------------------------------------------------
def test_runtime_metadata_is_read_once_and_cached(make_executor: MakeExecutor,
                                                  openwhisk_double: OpenWhiskDouble,
                                                  home_dir: Path) -> None:
    runtime_module._metadata.clear()

    def info_calls() -> int:
        return sum("wren_runtime_info" in i["body"] for i in openwhisk_double.invocations())

    before = info_calls()
    info = make_executor().compute.runtime_info()
    assert info.python_version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert info.wren_version == wren.__version__
    assert {"ibm_boto3", "cloudpickle", "wren", "json"} <= info.preinstalled_modules
    assert info_calls() == before + 1
    assert list((home_dir / ".wren" / "cache" / "runtimes" / "ibm_cf").glob("*.json"))
    runtime_module._metadata.clear()  # a new client process: the file cache answers
    assert make_executor().compute.runtime_info() == info
    assert info_calls() == before + 1


def test_a_slow_blocking_invocation_is_followed_by_its_activation(
        make_executor: MakeExecutor, openwhisk_double: OpenWhiskDouble) -> None:
    compute = warm(make_executor).compute
    runtime_module._metadata.clear()
    release = threading.Timer(10, openwhisk_double.hold, args=(False,))
    openwhisk_double.hold(True)  # the metadata call gets 202 + an activation id
    release.start()
    try:
        started = time.monotonic()
        info = compute.runtimes._read_from_runtime(compute.runtime, runtime_module.action_name(
            compute.runtime, compute.memory))
        assert time.monotonic() - started >= 9
        assert info["wren_version"] == wren.__version__
    finally:
        release.join()
        openwhisk_double.hold(False)


def test_python_mismatch_names_both_versions_and_the_build_command(
        make_executor: MakeExecutor, home_dir: Path) -> None:
    runtime_module._metadata.clear()
    make_executor().compute.runtime_info()  # read from the runtime, cached in this HOME
    runtime_module._metadata.clear()
    for path in (home_dir / ".wren" / "cache" / "runtimes" / "ibm_cf").glob("*.json"):
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "python_version": "3.9"}))
    try:
        with pytest.raises(wren.RuntimeMismatchError) as caught:
            make_executor().map(fn.double, [1])
        message = str(caught.value)
        local = f"{sys.version_info[0]}.{sys.version_info[1]}"
        assert "Python 3.9" in message and f"Python {local}" in message
        assert "wren runtime build" in message and "ibm_cf" in message
    finally:
        runtime_module._metadata.clear()


def test_deploy_list_update_and_delete_runtimes(make_executor: MakeExecutor) -> None:
    compute = make_executor().compute
    entry = compute.deploy_runtime("default", memory=512, timeout=120)
    assert (entry.name, entry.memory, entry.wren_version) == (compute.runtime, 512,
                                                              wren.__version__)
    listed = {(e.name, e.memory) for e in compute.list_runtimes()}
    assert (compute.runtime, 512) in listed
    compute.update_runtime("default")
    compute.delete_runtime("default", memory=512)
    assert (compute.runtime, 512) not in {(e.name, e.memory) for e in compute.list_runtimes()}


def test_default_runtime_build_and_cost(make_executor: MakeExecutor) -> None:
    compute = make_executor().compute
    local = f"{sys.version_info[0]}{sys.version_info[1]}"
    assert compute.default_runtime_name() == f"wren/ibmcf-python{local}:{wren.__version__}"
    built: list[tuple[str, str | None]] = []

    class Builder:  # what `wren runtime build` hands in (it talks to the engine)
        def build(self, name: str, dockerfile: str | None = None, **_: Any) -> str:
            built.append(("build", name))
            return "image-id"

        def push(self, name: str, **_: Any) -> None:
            built.append(("push", name))

    compute.build_runtime("me/wren-ibmcf:1", builder=Builder())
    assert built == [("build", "me/wren-ibmcf:1"), ("push", "me/wren-ibmcf:1")]
    with pytest.raises(wren.InvalidInputError, match="lowercase"):
        compute.build_runtime("Me/Bad:1", builder=Builder())
    stats = {"worker_start_tstamp": 10.0, "worker_end_tstamp": 12.0, "worker_calls": 2}
    assert compute.call_cost(stats, 512) == pytest.approx(0.000017 * 0.5 * 2 / 2)
    assert make_executor("openwhisk").compute.call_cost(stats, 512) is None


def test_runtime_memory_selects_its_own_action(make_executor: MakeExecutor) -> None:
    fexec = make_executor()
    futures = fexec.map(fn.double, [21], runtime_memory=512)
    assert fexec.get_result(futures) == [42]
    memories = {e.memory for e in fexec.compute.list_runtimes()}
    assert 512 in memories
    fexec.compute.delete_runtime("default", memory=512)


def test_lost_deadline_follows_the_action_time_limit(make_executor: MakeExecutor) -> None:
    compute = make_executor(compute={"runtime_timeout": 60}).compute
    task = type("T", (), {"timeout": 1800.0, "call_indices": range(10)})()
    assert compute.lost_deadline(task, 1000.0) == 1000.0 + 60 + 30


# The remote invoker -----------------------------------------------------------------------
def test_remote_invoker_sends_one_invocation(make_executor: MakeExecutor,
                                             openwhisk_double: OpenWhiskDouble,
                                             ceph_gateway: CephGateway) -> None:
    fexec = warm(make_executor, remote_invoker=True)
    before = len(openwhisk_double.invocations())
    futures = fexec.map(fn.double, range(12), chunksize=1)
    assert fexec.compute.wait_dispatched(30)
    assert fexec.compute.dispatcher.delivered == 2  # the warm-up call and one fan-out
    assert fexec.get_result(futures) == [2 * i for i in range(12)]
    bodies = [i["body"] for i in openwhisk_double.invocations(before)]
    fanouts = [b for b in bodies if "wren_fanout" in b]
    assert len(fanouts) == 1 and sum("wren_task" in b for b in bodies) == 12
    assert not any(s in fanouts[0] for s in (ceph_gateway.secret_key,
                                             openwhisk_double.iam_api_key))
    assert fexec.map_reduce(fn.double, range(5), fn.total) and fexec.get_result() == 20


def test_remote_invoker_reports_tasks_it_cannot_deliver(make_executor: MakeExecutor,
                                                        openwhisk_double: OpenWhiskDouble
                                                        ) -> None:
    fexec = warm(make_executor, remote_invoker=True)
    openwhisk_double.inject(403, count=2, path="/actions/", method="POST", skip=1,
                            error="The supplied authentication is not authorized")
    try:
        futures = fexec.map(fn.double, range(4), chunksize=1)
        fexec.wait(futures, throw_except=False, timeout=60)
        failed = [f for f in futures if f.error]
        assert len(failed) == 2
        with pytest.raises(wren.WorkerLostError, match="HTTP 403"):
            failed[0].result()
        assert sorted(f.result() for f in futures if not f.error) == sorted(
            2 * f.index for f in futures if not f.error)
    finally:
        openwhisk_double.clear_faults()


def test_the_wren_runtime_verbs_on_ibm_cf(openwhisk_double: OpenWhiskDouble,
                                          cos_config: dict[str, Any], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from click.testing import CliRunner
    from wren_cli.main import cli

    config = tmp_path / "wren.yaml"
    config.write_text(yaml.safe_dump({
        "wren": {"backend": "ibm_cf", "storage": "ibm_cos"},
        "ibm": {"iam_api_key": openwhisk_double.iam_api_key},
        "ibm_cf": openwhisk_double.ibm_cf_config(), "ibm_cos": cos_config}))
    monkeypatch.setenv("WREN_CONFIG_FILE", str(config))

    def wren_cli(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    image = openwhisk_double.image
    assert "384" in wren_cli("runtime", "deploy", "default", "--memory", "384")
    listed = [line for line in wren_cli("runtime", "list").splitlines() if "384" in line]
    assert len(listed) == 1 and image in listed[0] and wren.__version__ in listed[0]
    wren_cli("runtime", "update", "default")
    wren_cli("runtime", "delete", "default", "--memory", "384")
    assert "384" not in wren_cli("runtime", "list")
    wren_cli("clean", "--all")  # every runtime and, with the last one, the package
    assert "no runtimes deployed on backend 'ibm_cf'" in wren_cli("runtime", "list")


class TestIbmCfHostileStorage(IbmCfBinding, HostileStorageContract):
    """An attacker with write access to the Ceph bucket (`ibm_cos`)."""

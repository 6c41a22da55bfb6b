"""Lithops 3.8's names and executor keywords, side by side with what Lithops does.

Each test names the Lithops behaviour it mirrors (checked against Lithops 3.8.0) and asserts
wren's answer: the same result, or a refusal that names what to write instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.client.keywords import executor_config


def _threads(**kwargs: Any) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="threads", storage="shared_memory", **kwargs)


def _config(**overrides: Any) -> Any:
    named = {k: overrides.pop(k, None) for k in ("runtime", "runtime_memory", "log_level",
                                                 "mode", "config_file", "monitoring")}
    return executor_config(overrides.pop("backend", None), overrides.pop("storage", None),
                           overrides.pop("config", None), named, overrides)


# wren.wait ---------------------------------------------------------------------------------
def test_wait_module_holds_the_constants_and_the_name_is_the_function() -> None:
    # Lithops: `from lithops.wait import ALL_COMPLETED` reads the module, `lithops.wait` is
    # the function wait(fs, ...).
    from wren.wait import ALL_COMPLETED, ALWAYS, ANY_COMPLETED

    assert (ALL_COMPLETED, ANY_COMPLETED, ALWAYS) == (wren.ALL_COMPLETED,
                                                       wren.ANY_COMPLETED, wren.ALWAYS)
    assert callable(wren.wait) and callable(wren.get_result)
    assert sys.modules["wren.wait"].wait is wren.wait
    assert wren.wait.ALL_COMPLETED == ALL_COMPLETED  # type: ignore[attr-defined]


@pytest.mark.usefixtures("thread_backends")
def test_module_wait_and_get_result_over_one_executor() -> None:
    # Lithops: lithops.wait(fs) -> (done, not_done); lithops.get_result(fs) -> results.
    with _threads() as fexec:
        futures = fexec.map(lambda x: x * 2, [1, 2, 3])
        done, not_done = wren.wait(futures, return_when=wren.ALL_COMPLETED)
        assert (len(done), not_done) == (3, [])
        assert wren.get_result(futures) == [2, 4, 6]


@pytest.mark.usefixtures("thread_backends")
def test_module_get_result_over_two_executors_keeps_the_order() -> None:
    # Lithops: get_result over futures of several executors gives one list in fs order.
    with _threads() as first, _threads() as second:
        mixed = [second.call_async(lambda: "b", ()), first.call_async(lambda: "a", ()),
                 second.call_async(lambda: "c", ())]
        assert wren.get_result(mixed) == ["b", "a", "c"]
        done, not_done = wren.wait(mixed, threadpool_size=8, wait_dur_sec=1)
        assert len(done) == 3 and not_done == []
        with pytest.raises(wren.InvalidInputError, match="each executor's futures"):
            wren.wait(mixed, return_when=wren.ANY_COMPLETED)


def test_module_wait_refuses_what_is_not_futures() -> None:
    with pytest.raises(wren.InvalidInputError, match="futures"):
        wren.wait([1, 2])
    with pytest.raises(wren.InvalidInputError, match="internal_storage"):
        wren.wait([], internal_storage=object())


# Executor names ----------------------------------------------------------------------------
def test_localhost_executor_runs_here(private_tmp: Path) -> None:
    # Lithops: LocalhostExecutor() = localhost compute + localhost storage.
    with wren.LocalhostExecutor(log_level=False) as fexec:
        assert (fexec.backend, fexec.storage_backend_name) == ("localhost", "localhost")
        assert fexec.get_result(fexec.call_async(lambda x: x + 1, 41)) == 42
    with pytest.raises(wren.InvalidInputError, match="LocalhostExecutor takes no backend="):
        wren.LocalhostExecutor(backend="threads")


@pytest.mark.usefixtures("thread_backends")
def test_serverless_executor_runs_on_the_given_backend() -> None:
    # Lithops: ServerlessExecutor(backend=...) = mode 'serverless' on that backend.
    with wren.ServerlessExecutor(backend="threads", storage="shared_memory") as fexec:
        assert fexec.backend == "threads"
        assert fexec.get_result(fexec.call_async(lambda: "ok", ())) == "ok"


def test_serverless_mode_refuses_a_backend_on_this_machine(private_tmp: Path) -> None:
    # Lithops picks its default serverless backend; wren refuses localhost, naming backend=.
    with pytest.raises(wren.ConfigError, match="mode='serverless'.*backend"):
        wren.ServerlessExecutor()
    with pytest.raises(wren.ConfigError, match="mode='serverless'"):
        wren.FunctionExecutor(mode="serverless", backend="localhost")
    with pytest.raises(wren.ConfigError, match="mode='serverless'"):
        wren.FunctionExecutor("serverless")  # Lithops' first positional is the mode
    with pytest.raises(wren.InvalidInputError, match="pass config=... by name"):
        wren.FunctionExecutor("localhost", {"localhost": {}})  # Lithops' second is config


def test_standalone_is_refused_naming_the_replacement() -> None:
    # Lithops: StandaloneExecutor() runs on virtual machines; wren has no such mode.
    with pytest.raises(wren.NotSupportedError, match="ServerlessExecutor.*LocalhostExecutor"):
        wren.StandaloneExecutor()
    with pytest.raises(wren.NotSupportedError, match="standalone"):
        _config(mode="standalone")
    with pytest.raises(wren.InvalidInputError, match="modes are localhost, serverless"):
        _config(mode="cloud")


def test_openwhisk_executor_names_the_openwhisk_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyWren-IBM: openwhisk_executor() = FunctionExecutor on the openwhisk backend.
    seen: dict[str, Any] = {}
    monkeypatch.setattr(wren._aliases, "FunctionExecutor", lambda **kw: seen.update(kw))
    wren.openwhisk_executor(runtime="img")
    assert seen == {"backend": "openwhisk", "runtime": "img"}


# Executor keywords -------------------------------------------------------------------------
def test_mode_localhost_means_the_localhost_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lithops: FunctionExecutor(mode='localhost') runs on localhost; `type` is its old name.
    assert _config(mode="localhost").compute_backend == "localhost"
    assert _config(type="localhost").compute_backend == "localhost"
    from wren import plugins
    from wren.ports import ComputeBackend

    class Remote(ComputeBackend):
        name = "remote"

    real = plugins.compute_backend_class
    monkeypatch.setattr(plugins, "compute_backend_class",
                        lambda name: Remote if name == "remote" else real(name))
    with pytest.raises(wren.InvalidInputError, match="mode='localhost'.*'remote'"):
        _config(mode="localhost", backend="remote")


def test_older_names_become_the_new_keys() -> None:
    # PyWren-IBM / Lithops 1.x-2.x: workers=, storage_backend=, compute_backend=.
    config = _config(workers=3, storage_backend="localhost", compute_backend="localhost")
    assert config.compute["max_workers"] == 3
    assert (config.compute_backend, config.storage_backend) == ("localhost", "localhost")
    with pytest.raises(wren.InvalidInputError, match="workers=2 and max_workers=3 disagree"):
        _config(workers=2, max_workers=3)


def test_backend_section_keys_go_to_the_backend() -> None:
    # Lithops 3.8: any compute-section key is a keyword (max_workers, worker_processes, ...).
    config = _config(max_workers=4, worker_processes=2, runtime_memory=512, monitoring="storage")
    assert (config.compute["max_workers"], config.compute["worker_processes"],
            config.compute["runtime_memory"]) == (4, 2, 512)
    assert config.wren["monitoring"] == "storage"
    with pytest.raises(wren.ConfigError, match="max_wokers"):
        _config(max_wokers=4)  # a typo is refused, never ignored


def test_regions_are_refused_naming_the_section() -> None:
    # PyWren-IBM: storage_backend_region= / compute_backend_region=.
    with pytest.raises(wren.InvalidInputError, match="`region` in the storage backend"):
        _config(storage_backend_region="us-east")
    with pytest.raises(wren.InvalidInputError, match="`region` in the compute backend"):
        _config(compute_backend_region="us-east")


def test_log_level_false_none_and_lowercase() -> None:
    # Lithops: log_level=False reads the config, None shows no logs, 'info' is a level.
    assert _config(log_level=False).wren["log_level"] is None
    assert _config(log_level=None).wren["log_level"] is None
    assert _config(log_level="debug").wren["log_level"] == "DEBUG"
    with pytest.raises(wren.InvalidInputError, match="level name"):
        _config(log_level=10)


def test_remote_invoker_is_honoured_or_refused() -> None:
    # Lithops: remote_invoker=True makes the platform spawn the calls; localhost cannot.
    assert _config(remote_invoker=False).compute_backend == "localhost"
    with pytest.raises(wren.NotSupportedError, match="remove remote_invoker"):
        _config(remote_invoker=True)


def test_config_file_is_read(tmp_path: Path) -> None:
    # Lithops 3.8: FunctionExecutor(config_file=path); config= still wins key by key.
    path = tmp_path / "lithops.yaml"
    path.write_text("lithops:\n  backend: localhost\nlocalhost:\n  max_workers: 5\n"
                    "  worker_processes: 2\n")
    config = _config(config_file=str(path), config={"localhost": {"worker_processes": 3}})
    assert (config.compute["max_workers"], config.compute["worker_processes"]) == (5, 3)
    with pytest.raises(wren.ConfigError, match="not a file"):
        _config(config_file=str(tmp_path / "absent.yaml"))


def test_local_executor_keeps_a_storage_backend_given_by_its_old_name() -> None:
    # PyWren-IBM: local_executor(storage_backend='localhost').
    kwargs: dict[str, Any] = {"storage_backend": "localhost"}
    wren._aliases._default_storage(kwargs, "other")
    assert kwargs == {"storage_backend": "localhost"}

"""Seeing what ran, end to end on `localhost`: the executor contract with storage polling
alone, per-call output through `future.logs` and `wren logs`, plots of a thousand calls,
job summaries, and monitors that stop with their executor."""

from __future__ import annotations

import csv
import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wren
from click.testing import CliRunner
from wren.monitoring.setup import STORAGE_PACE
from wren.testing import functions as fn
from wren.testing.contract import ExecutorContract
from wren_cli import cli

MakeExecutor = Callable[..., wren.FunctionExecutor]


@pytest.fixture
def storage_dir(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def make_executor(storage_dir: Path) -> MakeExecutor:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                     storage_dir=str(storage_dir), worker_processes=2,
                                     **overrides)

    return make


class TestExecutorWithStoragePolling(ExecutorContract):
    """The contract again, with the localhost pool's pushes declined: every status is
    learned by polling storage, as on a backend that cannot push."""

    @pytest.fixture
    def make_executor(self, storage_dir: Path) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            fexec = wren.FunctionExecutor(backend="localhost", storage="localhost",
                                          storage_dir=str(storage_dir), worker_processes=2,
                                          **overrides)
            fexec._monitor.adapter_pushes = False
            fexec._monitor.set_pace(*STORAGE_PACE)
            return fexec

        return make


def _wren_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "wren-monitor" and t.is_alive()}


# Logs ---------------------------------------------------------------------------------------
def _config_file(tmp_path: Path, storage_dir: Path) -> Path:
    path = tmp_path / "wren.yaml"
    path.write_text(f"localhost:\n  storage_dir: {storage_dir}\n")
    return path


def test_output_is_kept_after_the_results_are_read_and_wren_logs_shows_it(
        make_executor: MakeExecutor, tmp_path: Path, storage_dir: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "wren"), make_executor() as fexec:
        futures = fexec.map(fn.talk, range(4), chunksize=2)
        assert fexec.get_result(futures) == [0, 1, 2, 3]
        job_key = futures[0].job_key
        failed = fexec.call_async(fn.fail_with, "boom")
        with pytest.raises(ValueError, match="boom"):
            failed.result()
    assert f"job {job_key}: 3 of 4 calls wrote output" in caplog.text
    assert f"localhost://wren/wren.logs/{job_key}/" in caplog.text
    assert futures[3].logs == "out 3\nerr 3\n" and failed.logs == ""

    config = str(_config_file(tmp_path, storage_dir))
    runner = CliRunner()
    listed = runner.invoke(cli, ["logs", "list", "-c", config])
    assert listed.exit_code == 0, listed.output
    assert job_key in listed.output and failed.job_key not in listed.output
    got = runner.invoke(cli, ["logs", "get", job_key, "-c", config])
    assert got.exit_code == 0, got.output
    assert f"--- {job_key} call 00002 ---\nout 2\nerr 2\n" in got.output
    assert "call 00000" not in got.output
    one = runner.invoke(cli, ["logs", "get", job_key, "00001", "-c", config])
    assert one.output == "out 1\nerr 1\n"
    missing = runner.invoke(cli, ["logs", "get", job_key, "0", "-c", config])
    assert missing.exit_code == 1 and "call 00000 of job" in missing.output
    bad = runner.invoke(cli, ["logs", "get", "nokey", "-c", config])
    assert bad.exit_code == 2 and "is not a job key" in bad.output  # usage error (issue 18)


def test_clean_removes_the_output_too(make_executor: MakeExecutor) -> None:
    with make_executor() as fexec:
        # a task per call: logs are read a task's batch at a time, and call 1's must be unread
        futures = fexec.map(fn.talk, [5, 6], chunksize=1)
        fexec.get_result(futures)
        assert futures[0].logs == "out 5\nerr 5\n"
        fexec.clean()
        assert futures[0].logs == "out 5\nerr 5\n", "what was read stays readable"
        with pytest.raises(wren.WrenError, match="removed by clean"):
            _ = futures[1].logs


def test_logs_of_a_call_not_finished_are_none(make_executor: MakeExecutor) -> None:
    with make_executor() as fexec:
        future = fexec.call_async(fn.sleep_for, 1.0)
        assert future.logs is None
        future.result()
        assert future.logs == ""


# Plots and summaries ------------------------------------------------------------------------
def test_plots_of_a_thousand_calls(make_executor: MakeExecutor, tmp_path: Path) -> None:
    from matplotlib import image

    with make_executor() as fexec:
        futures = fexec.map(fn.sleep_then, [(0.001 * (i % 5), i) for i in range(1000)],
                            chunksize=25)
        fexec.get_result(futures)
        failed = fexec.map(fn.fail_on, [(i, 3) for i in range(10)])
        fexec.wait(failed, throw_except=False)
        timeline, histogram, workers = fexec.create_execution_plots(tmp_path / "plots", "run")
        assert Path(timeline).name == "run_timeline.png"
        assert Path(histogram).name == "run_histogram.png"
        assert Path(workers).name == "run_workers.png"
        for path in (timeline, histogram, workers):
            pixels = image.imread(path)
            assert pixels.shape[:2] == (1012, 1800)
            assert pixels[..., :3].std() > 0.05, f"{path} is blank"
        prefix = fexec.plot(futures[:10], dst=tmp_path / "small" / "first")
        assert prefix == (str(tmp_path / "small" / "first_timeline.png"),
                          str(tmp_path / "small" / "first_histogram.png"),
                          str(tmp_path / "small" / "first_workers.png"))
        default = fexec.plot(futures[:5])
        assert Path(default[0]).parent == Path.cwd() / "plots"


def test_plotting_nothing_finished_is_a_clear_error(make_executor: MakeExecutor,
                                                    tmp_path: Path) -> None:
    with make_executor() as fexec, pytest.raises(wren.InvalidInputError,
                                                 match="no finished calls"):
        fexec.create_execution_plots(tmp_path, "none")


def test_job_summary_prices_calls_when_the_backend_can(make_executor: MakeExecutor,
                                                       tmp_path: Path) -> None:
    with make_executor() as fexec:
        futures = fexec.map(fn.talk, range(3), runtime_memory=256)
        fexec.get_result(futures)
        unpriced = fexec.job_summary(tmp_path / "a")
        with open(unpriced[0], newline="") as handle:
            [row] = list(csv.DictReader(handle))
        assert row["calls_done"] == "3" and row["cost_usd"] == "" and row["log_bytes"] == "24"
        assert row["runtime_memory"] == "256"

        def price(stats: Any, memory: int | None) -> float:
            return stats["worker_func_exec_time"] * (memory or 0) / 1024 * 0.000017

        fexec.compute.call_cost = price  # type: ignore[method-assign]
        _, calls_csv = fexec.job_summary(tmp_path / "b", futures)
        with open(calls_csv, newline="") as handle:
            calls = list(csv.DictReader(handle))
        assert len(calls) == 3 and all(float(c["cost_usd"]) >= 0 for c in calls)
        assert calls[1]["worker_log_bytes"] == "12"


# Monitors end with their executor -----------------------------------------------------------
def test_a_closed_executor_leaves_no_monitor_running(make_executor: MakeExecutor) -> None:
    before = _wren_threads()
    fexec = make_executor()
    fexec.get_result(fexec.map(fn.double, range(4)))
    assert fexec._monitor.alive
    fexec.close()
    assert not fexec._monitor.alive and _wren_threads() <= before


def test_a_dropped_executor_leaves_no_monitor_running(make_executor: MakeExecutor) -> None:
    before = _wren_threads()
    fexec = make_executor()
    fexec.get_result(fexec.map(fn.double, range(4)))
    monitor = fexec._monitor
    gone = weakref.ref(fexec)
    del fexec
    gc.collect()
    assert gone() is None
    deadline = time.monotonic() + 5
    while monitor.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not monitor.alive and _wren_threads() <= before

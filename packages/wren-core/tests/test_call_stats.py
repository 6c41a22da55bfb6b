"""`future.stats` field by field, and `job_summary`'s CSV files built from them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from wren.client.futures import futures_of
from wren.client.job import JobState
from wren.client.stats import STATS_FIELDS, call_stats
from wren.client.summary import CALL_COLUMNS, JOB_COLUMNS, write_job_summaries
from wren.protocol.status import StatusDocument, error_info
from wren.protocol.task import JobKind

DOCS = Path(__file__).resolve().parents[3] / "docs" / "observing-jobs.md"


def _job() -> JobState:
    job = JobState(None, "ab12cd-0", JobKind.MAP, 0, 3)  # type: ignore[arg-type]
    job.submitted_at = 100.0
    job.runtime_memory = 512
    first = StatusDocument(job.job_key, "t00000", 0, "r0", {
        "start": 101.0, "end": 104.0, "host": "w1", "pid": 7, "python": "3.11.7",
        "wren": "0.1.0", "attempt": 0, "cold_start": True, "args_bytes": 40,
        "result_bytes": 30})
    first.add(0, 102.0, 102.5)
    first.add(1, 102.5, 103.5, error_info("ValueError", "bad"))
    first.extra[0] = {"worker_log_bytes": 12}
    retry = StatusDocument(job.job_key, "t00000.r1", 0, "r1", {
        "start": 105.0, "end": 107.0, "host": "w2", "pid": 8, "attempt": 1,
        "cold_start": False, "args_bytes": 40, "result_bytes": 10})
    retry.add(2, 105.5, 106.0)
    job.apply(first)
    job.apply(retry)
    job.arrivals.update({first.name: 104.5, retry.name: 107.5})
    job.result_times[first.name] = 110.0
    return job


def test_every_field_is_documented_and_present_once_the_call_ran() -> None:
    stats = call_stats(_job(), 0)
    names = [field.name for field in STATS_FIELDS]
    assert len(names) == len(set(names))
    assert set(stats) == set(names)
    assert all(field.meaning for field in STATS_FIELDS)


def test_the_documentation_lists_every_field() -> None:
    text = DOCS.read_text()
    missing = [f.name for f in STATS_FIELDS if f"`{f.name}`" not in text]
    assert not missing, f"docs/observing-jobs.md does not describe {missing}"


def test_values_come_from_the_call_its_batch_and_the_client() -> None:
    job = _job()
    stats = call_stats(job, 0)
    assert stats["call_id"] == "00000" and stats["success"] is True
    assert stats["worker_func_exec_time"] == pytest.approx(0.5)
    assert stats["worker_exec_time"] == pytest.approx(3.0)
    assert stats["worker_log_bytes"] == 12 and stats["worker_calls"] == 2
    assert stats["worker_cold_start"] is True and stats["worker_attempt"] == 0
    assert stats["host_status_done_tstamp"] == 104.5
    assert stats["host_result_done_tstamp"] == 110.0
    failed, retried = call_stats(job, 1), call_stats(job, 2)
    assert failed["success"] is False and failed["worker_log_bytes"] == 0
    assert retried["worker_attempt"] == 1 and "host_result_done_tstamp" not in retried


def test_a_pending_call_has_only_the_client_side_fields() -> None:
    job = JobState(None, "ab12cd-0", JobKind.MAP, 1, 1)  # type: ignore[arg-type]
    assert set(call_stats(job, 0)) == {"executor_id", "job_id", "call_id",
                                      "host_submit_tstamp"}


def _read(path: str) -> list[dict[str, Any]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_job_summary_writes_a_row_per_call_and_per_job(tmp_path: Path) -> None:
    job = _job()
    seen: list[tuple[float, int | None]] = []

    def price(stats: Any, memory: int | None) -> float:
        seen.append((stats["worker_func_exec_time"], memory))
        return 0.001 * stats["worker_func_exec_time"]

    jobs_csv, calls_csv = write_job_summaries(futures_of(job), tmp_path, price)
    assert Path(calls_csv).name == "ab12cd-0_M000.csv"
    calls = _read(calls_csv)
    assert list(calls[0]) == CALL_COLUMNS and len(calls) == 3
    assert [float(row["cost_usd"]) for row in calls] == pytest.approx([0.0005, 0.001, 0.0005])
    assert {memory for _, memory in seen} == {512}
    [row] = _read(jobs_csv)
    assert list(row) == JOB_COLUMNS
    assert (row["calls"], row["calls_done"], row["calls_failed"]) == ("3", "3", "1")
    assert float(row["wall_time"]) == pytest.approx(7.5)
    assert float(row["func_time_total"]) == pytest.approx(2.0)
    assert row["args_bytes"] == "40", "a retried task's arguments are counted once"
    assert row["result_bytes"] == "40" and row["log_bytes"] == "12"
    assert float(row["cost_usd"]) == pytest.approx(0.002)


def test_a_backend_that_cannot_price_leaves_cost_empty(tmp_path: Path) -> None:
    jobs_csv, calls_csv = write_job_summaries(futures_of(_job()), tmp_path, lambda s, m: None)
    assert {row["cost_usd"] for row in _read(calls_csv)} == {""}
    assert _read(jobs_csv)[0]["cost_usd"] == ""

"""`job_summary`: what each job cost in time, bytes and, where the backend can price it, money.

For every job it writes `<executor_id>_<job_id>.csv`, one row per call with every
`future.stats` field plus `cost_usd`, and one `<executor_id>_jobs.csv` with a row per job:
calls and failures, wall time from submission to the last status, total and longest
function time, bytes of arguments, results and output, and the summed cost. The price of a
call comes from the compute backend's `call_cost` hook; an empty cost means the backend
cannot price it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wren.client.futures import ResponseFuture
from wren.client.job import JobState
from wren.client.stats import STATS_FIELDS

#: Price of one call from its stats and the job's runtime memory (MB); None: unknown.
Pricer = Callable[[Mapping[str, Any], int | None], float | None]

CALL_COLUMNS = [field.name for field in STATS_FIELDS] + ["cost_usd"]
JOB_COLUMNS = ["executor_id", "job_id", "calls", "calls_done", "calls_failed",
               "host_submit_tstamp", "first_worker_start_tstamp", "last_func_end_tstamp",
               "last_status_done_tstamp", "wall_time", "func_time_total", "func_time_max",
               "args_bytes", "result_bytes", "log_bytes", "runtime_memory", "cost_usd",
               "rejected_statuses"]


def _cost(stats: Mapping[str, Any], memory: int | None, price: Pricer) -> float | None:
    if "worker_func_start_tstamp" not in stats:
        return None
    value = price(stats, memory)
    return None if value is None else float(value)


def _job_row(job: JobState, rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if "worker_func_start_tstamp" in r]
    # a retry (".r1") or a pool's slice (".s40") read its task's arguments again: count once
    tasks = {d.task_id.split(".", 1)[0]: d.worker.get("args_bytes") or 0
             for d in job.documents}
    costs = [r["cost_usd"] for r in done]

    def most(name: str) -> float | None:
        values = [r[name] for r in done if r.get(name) is not None]
        return max(values) if values else None

    return {
        "executor_id": job.executor_id, "job_id": job.job_id, "calls": job.size,
        "calls_done": len(done), "calls_failed": sum(1 for r in done if not r["success"]),
        "host_submit_tstamp": job.submitted_at,
        "first_worker_start_tstamp": min((r["worker_start_tstamp"] for r in done
                                          if r.get("worker_start_tstamp")), default=None),
        "last_func_end_tstamp": most("worker_func_end_tstamp"),
        "last_status_done_tstamp": most("host_status_done_tstamp"),
        "wall_time": (most("host_status_done_tstamp") or job.submitted_at) - job.submitted_at
        if done else None,
        "func_time_total": sum(r["worker_func_exec_time"] for r in done),
        "func_time_max": most("worker_func_exec_time"),
        "args_bytes": sum(tasks.values()),
        "result_bytes": sum(d.worker.get("result_bytes") or 0 for d in job.documents),
        "log_bytes": sum(r.get("worker_log_bytes") or 0 for r in done),
        "runtime_memory": job.runtime_memory,
        "cost_usd": sum(costs) if costs and None not in costs else None,
        "rejected_statuses": job.rejected_statuses,
    }


def _write(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})


def write_job_summaries(futures: Sequence[ResponseFuture], dst_dir: str | os.PathLike[str],
                        price: Pricer) -> list[str]:
    """Write the CSV files for the jobs of `futures`; return their paths (jobs file first)."""
    directory = Path(dst_dir)
    directory.mkdir(parents=True, exist_ok=True)
    jobs: dict[int, tuple[JobState, list[ResponseFuture]]] = {}
    for future in futures:
        jobs.setdefault(id(future.job), (future.job, []))[1].append(future)
    job_rows: list[dict[str, Any]] = []
    paths: list[str] = []
    for job, members in jobs.values():
        rows = []
        for future in sorted(members, key=lambda f: f.index):
            stats = future.stats
            stats["cost_usd"] = _cost(stats, job.runtime_memory, price)
            rows.append(stats)
        path = directory / f"{job.executor_id}_{job.job_id}.csv"
        _write(path, CALL_COLUMNS, rows)
        paths.append(str(path))
        job_rows.append(_job_row(job, rows))
    executors = sorted({row["executor_id"] for row in job_rows}) or ["none"]
    summary = directory / f"{'+'.join(executors)}_jobs.csv"
    _write(summary, JOB_COLUMNS, job_rows)
    return [str(summary), *paths]

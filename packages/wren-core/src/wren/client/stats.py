"""`future.stats`: what is known about one call, field by field.

Times are seconds since the epoch (`time.time()`), on the clock of the machine that took
them (`host_*` on the client, `worker_*` on the worker: compare across the two only as far
as the clocks agree). Durations are seconds, sizes bytes. Several calls share one worker
task and one batch (status document): the `worker_*` fields that describe a task or batch
say so, and are the same for every call in it. A field is absent until its moment has come
(`host_result_done_tstamp` appears once the result is downloaded).
"""

from __future__ import annotations

from typing import Any

import attrs

from wren.client.job import JobState


@attrs.frozen
class StatsField:
    """One key of `future.stats`."""

    name: str
    unit: str
    meaning: str


STATS_FIELDS: tuple[StatsField, ...] = (
    StatsField("executor_id", "", "the executor that ran the call"),
    StatsField("job_id", "", "the job within the executor (`M000` a map, `A001` a call_async, "
               "`R002` a reducer)"),
    StatsField("call_id", "", "the call's index in its job, zero-padded (`00007`)"),
    StatsField("host_submit_tstamp", "s", "client: the job's tasks were handed to the "
               "compute backend"),
    StatsField("success", "bool", "the call returned a value (False: it raised, or its worker "
               "was lost)"),
    StatsField("worker_start_tstamp", "s", "worker: began the task that holds the call"),
    StatsField("worker_func_start_tstamp", "s", "worker: the function was called (the "
               "previous call of its batch returned then: calls run back to back)"),
    StatsField("worker_func_end_tstamp", "s", "worker: the function returned or raised (calls "
               "of under 5 µs are timed in groups of up to 64, which end together)"),
    StatsField("worker_func_exec_time", "s", "worker_func_end_tstamp - "
               "worker_func_start_tstamp"),
    StatsField("worker_end_tstamp", "s", "worker: the call's batch was written to storage"),
    StatsField("worker_exec_time", "s", "worker_end_tstamp - worker_start_tstamp: the task "
               "up to this call's batch"),
    StatsField("worker_host", "", "host name of the worker"),
    StatsField("worker_pid", "", "process id of the worker"),
    StatsField("worker_python", "", "Python version of the worker"),
    StatsField("worker_wren_version", "", "wren version of the worker"),
    StatsField("worker_attempt", "", "0 for the first run of the call's task, n for its n-th "
               "retry after a lost worker"),
    StatsField("worker_cold_start", "bool", "the task was the first its worker process ran "
               "(imports and the function load were paid here)"),
    StatsField("worker_calls", "", "calls in the call's batch (they share one status "
               "document and one result object)"),
    StatsField("worker_args_bytes", "B", "serialized arguments of the whole task"),
    StatsField("worker_result_bytes", "B", "result object of the call's batch (every call of "
               "the batch together)"),
    StatsField("worker_log_bytes", "B", "what the call printed (stdout and stderr, UTF-8)"),
    StatsField("host_status_done_tstamp", "s", "client: learned that the call finished "
               "(status pushed or polled)"),
    StatsField("host_result_done_tstamp", "s", "client: the call's result was downloaded"),
)


def call_stats(job: JobState, index: int) -> dict[str, Any]:
    """The stats of call `index` of `job` (see `STATS_FIELDS`)."""
    stats: dict[str, Any] = {"executor_id": job.executor_id, "job_id": job.job_id,
                             "call_id": f"{index:05d}", "host_submit_tstamp": job.submitted_at}
    doc = job.docs[index]
    if doc is None:
        return stats
    pos = doc.position(index)
    start, end = doc.func_start[pos], doc.func_end[pos]
    worker = doc.worker
    worker_start, worker_end = worker.get("start"), worker.get("end")
    stats.update(
        success=pos not in doc.errors, worker_start_tstamp=worker_start,
        worker_func_start_tstamp=start, worker_func_end_tstamp=end,
        worker_func_exec_time=end - start, worker_end_tstamp=worker_end,
        worker_exec_time=(worker_end - worker_start
                          if worker_start is not None and worker_end is not None else None),
        worker_host=worker.get("host"), worker_pid=worker.get("pid"),
        worker_python=worker.get("python"), worker_wren_version=worker.get("wren"),
        worker_attempt=worker.get("attempt", 0), worker_cold_start=worker.get("cold_start"),
        worker_calls=len(doc), worker_args_bytes=worker.get("args_bytes"),
        worker_result_bytes=worker.get("result_bytes"), worker_log_bytes=0,
        host_status_done_tstamp=job.arrivals.get(doc.name))
    stats.update(doc.extra.get(pos, {}))
    if doc.name in job.result_times:
        stats["host_result_done_tstamp"] = job.result_times[doc.name]
    return stats

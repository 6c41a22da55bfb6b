"""`ResponseFuture`: the client's handle on one call.

A future is just its job and its call index (two slots), because a 100,000-call map holds
100,000 of them. Its status, value and exception live in the job's columns (`JobState`),
filled a whole status document at a time; `stats` assembles the call's timeline from the
document that completed it, and `logs` what the call printed.
"""

from __future__ import annotations

from typing import Any

from wren.client.job import JobState
from wren.client.logs import call_logs
from wren.client.stats import call_stats


class ResponseFuture:
    """The future result of one call, as returned by `call_async` and `map`."""

    __slots__ = ("_job", "index")

    def __init__(self, job: JobState, index: int) -> None:
        self._job = job
        self.index = index

    # Identity -----------------------------------------------------------------------------
    @property
    def job(self) -> JobState:
        """The job this call belongs to (its columns hold the call's state)."""
        return self._job

    @property
    def executor_id(self) -> str:
        return self._job.executor_id

    @property
    def job_id(self) -> str:
        return self._job.job_id

    @property
    def job_key(self) -> str:
        return self._job.job_key

    @property
    def call_id(self) -> str:
        """The call's index in its job, zero-padded as in Lithops (`"00007"`)."""
        return f"{self.index:05d}"

    # State --------------------------------------------------------------------------------
    def done(self) -> bool:
        """True once the call finished (successfully or not) and its status arrived."""
        return self._job.docs[self.index] is not None

    @property
    def ready(self) -> bool:
        """True once the value or exception has been downloaded."""
        return self._job.has_value(self.index)

    @property
    def success(self) -> bool:
        return self.done() and self.error_info is None

    @property
    def error(self) -> bool:
        """True when the call failed (its exception is `exception()`)."""
        return self.error_info is not None

    @property
    def error_info(self) -> dict[str, str] | None:
        """Type, message, remote traceback and kind of the failure, without downloading."""
        return self._job.error_info(self.index)

    @property
    def produces_output(self) -> bool:
        return self._job.produces_output

    # Results ------------------------------------------------------------------------------
    def result(self, throw_except: bool = True, timeout: float | None = None) -> Any:
        """Wait for the call and return its value (re-raising its exception)."""
        job = self._job
        job.executor_services.wait_and_fetch([self], timeout=timeout)
        job.read[self.index] = True
        exc = job.exceptions.get(self.index)
        if exc is not None:
            if throw_except:
                raise exc
            return None
        return job.values[self.index]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the call and return its exception, or None if it succeeded."""
        self._job.executor_services.wait_and_fetch([self], timeout=timeout)
        return self._job.exceptions.get(self.index)

    @property
    def stats(self) -> dict[str, Any]:
        """Times (seconds since the epoch) and sizes (bytes) of this call, field by field in
        `wren.client.stats.STATS_FIELDS` (and docs/observing-jobs.md)."""
        return call_stats(self._job, self.index)

    @property
    def logs(self) -> str | None:
        """What the call printed (stdout and stderr, interleaved): "" when nothing, None
        while the call has not finished. Read from storage once per batch of calls."""
        return call_logs(self._job, self.index)

    def __repr__(self) -> str:
        state = "error" if self.error else "done" if self.done() else "pending"
        return f"<ResponseFuture {self.job_key}/{self.call_id} {state}>"


def futures_of(job: JobState) -> list[ResponseFuture]:
    """One future per call of `job`, made on first use (after the tasks are dispatched, so
    building them overlaps with the workers' start) and kept on the job."""
    if job.made_futures is None:
        job.made_futures = [ResponseFuture(job, i) for i in range(job.size)]
    return job.made_futures

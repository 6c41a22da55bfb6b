"""`ClientSession`: the executor's waiting and downloading, shared with its futures.

Waiting sleeps on one condition variable that the monitor notifies whenever calls complete,
so `wait` works from any thread (no signals) and wakes the moment a status is applied.
Futures that make up whole jobs are counted through the jobs' counters, not one by one.
A session knows the executor that owns it (`owner`), so futures handed to another executor
are waited for by their own; waiting on a session whose monitor stopped (its executor was
closed) raises at once instead of waiting for statuses that can no longer arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from wren import plugins
from wren._constants import ALL_COMPLETED, wait_threshold
from wren._errors import InvalidInputError, WaitTimeoutError
from wren.client import phases
from wren.client.collect import covers_whole_jobs, jobs_of
from wren.client.futures import ResponseFuture
from wren.client.job import JobState
from wren.client.monitor import JobMonitor
from wren.client.progress import JobLine, ProgressBar, wants_progress
from wren.client.references import FutureReference, detached_job
from wren.client.results import fetch_documents, job_documents, missing_documents
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol.task import JobKind

_PROGRESS_REFRESH = 0.25


class _Progress:
    """How many of a set of futures are done, cheaply: whole jobs by their counters."""

    def __init__(self, futures: Sequence[ResponseFuture],
                 jobs: Sequence[JobState] | None = None) -> None:
        self.total = len(futures)
        self.partial_failed = False
        #: The futures of jobs waited for in part, by job (for the progress lines).
        self.some: list[list[ResponseFuture]] = []
        if jobs is None:  # futures that are whole jobs (what map returned) are found in C
            found = jobs_of(futures)
            jobs = found if covers_whole_jobs(futures, found) else None
        if jobs is not None:  # futures are exactly these jobs'
            self.whole, self.partial = list(jobs), []
            return
        groups: dict[int, tuple[JobState, list[ResponseFuture]]] = {}
        for future in futures:
            groups.setdefault(id(future.job), (future.job, []))[1].append(future)
        self.whole = [job for job, members in groups.values() if len(members) == job.size]
        self.some = [members for job, members in groups.values() if len(members) != job.size]
        self.partial = [f for members in self.some for f in members]

    def done(self) -> int:
        still = []
        for future in self.partial:
            if not future.done:
                still.append(future)
            elif future.error:  # remembered: it leaves the list of those to watch
                self.partial_failed = True
        self.partial = still
        pending = sum(job.pending for job in self.whole) + len(self.partial)
        return self.total - pending

    def failed(self) -> bool:
        return self.partial_failed or any(job.failed for job in self.whole)

    def lines(self) -> list[JobLine]:
        """One line per job: its key, its calls waited for, how many are done and failed."""
        found = [JobLine(job.job_key, job.size, job.size - job.pending, job.failures)
                 for job in self.whole]
        for members in self.some:
            finished = [f for f in members if f.done]
            found.append(JobLine(members[0].job.job_key, len(members), len(finished),
                                 sum(1 for f in finished if f.error)))
        return found


class ClientSession:
    """Storage, serializer, monitor and the condition they share, for one executor."""

    def __init__(self, storage: StorageBackend, bucket: str, serializer: Serializer,
                 monitor: JobMonitor, condition: threading.Condition, progress: bool) -> None:
        self.storage, self.bucket, self.serializer = storage, bucket, serializer
        self.monitor, self.condition, self.progress = monitor, condition, progress
        #: A weak reference to the executor that owns this session (set by it).
        self.owner: Callable[[], Any] = lambda: None
        #: Sessions of executors created inside this one's workers, by executor id.
        self.nested: dict[str, ClientSession] = {}

    # Futures of executors created inside workers (see wren.client.references) -------------
    def adopt(self, reference: FutureReference, key: bytes) -> JobState:
        """The job a future found in a result refers to, read from storage with `key`."""
        if (reference.storage, reference.bucket) != (self.storage.name, self.bucket):
            return detached_job(reference, f"its job is in {reference.storage} bucket "
                                f"{reference.bucket!r}, not in this executor's storage")
        with self.condition:
            inner = self.nested.get(reference.executor_id)
            if inner is None:
                monitor = JobMonitor(self.storage, self.bucket, self.condition, key)
                self.monitor.attach(monitor)
                serializer = plugins.serializer_class(reference.serializer)()
                inner = ClientSession(self.storage, self.bucket, serializer, monitor,
                                      self.condition, False)
                inner.owner = self.owner
                self.nested[reference.executor_id] = inner
            job = inner.monitor.jobs.get(reference.job_key)
        if job is None:
            job = JobState(inner, reference.executor_id, JobKind(reference.kind), 0,
                           reference.size, produces_output=reference.produces_output,
                           job_id=reference.job_key.rsplit("/", 1)[-1])
            job.submitted_at = time.time()
            inner.monitor.track(job)
        return job

    def cancel(self, future: ResponseFuture) -> bool:
        """Cancel `future`'s call if its job was not invoked yet (see `ResponseFuture`)."""
        job = future.job
        with self.condition:
            if job.submitted_at > 0 or job.docs[future.index] is not None:
                return False
            job.cancel(future.index)
            self.condition.notify_all()
        return True

    def wait(self, futures: Sequence[ResponseFuture], return_when: Any = ALL_COMPLETED,
             timeout: float | None = None, throw_except: bool = True,
             download_results: bool = False, jobs: Sequence[JobState] | None = None
             ) -> tuple[list[ResponseFuture], list[ResponseFuture]]:
        """Block until `return_when` holds for `futures` or `timeout` passes.

        `jobs`, when given, says that `futures` are exactly all futures of these jobs."""
        progress = _Progress(futures, jobs)
        need = wait_threshold(return_when, progress.total)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        try:
            with self.condition:
                done = progress.done()
                began = self._tell_waiting(progress, need - done) if done < need else 0.0
                if done < need and wants_progress(self.progress):
                    bar = ProgressBar(progress.lines())
                while done < need:
                    if bar is not None:
                        bar.update(progress.lines())
                    if throw_except and progress.failed():
                        break
                    wait_for = None if deadline is None else deadline - time.monotonic()
                    if wait_for is not None and wait_for <= 0:
                        break
                    if self.monitor.stopped:
                        raise InvalidInputError(
                            f"{progress.total - done} of {progress.total} calls had not "
                            "finished when their executor was closed; nothing watches them "
                            "any more. Wait for the futures before closing their executor")
                    if bar is not None:
                        wait_for = _PROGRESS_REFRESH if wait_for is None \
                            else min(wait_for, _PROGRESS_REFRESH)
                    self.condition.wait(wait_for)
                    done = progress.done()
                if bar is not None:
                    bar.update(progress.lines())
                if began:
                    lines = progress.lines()
                    phases.logger.info(
                        "waited %s: %d of %d calls done, %d failed", phases.since(began),
                        sum(line.done for line in lines), progress.total,
                        sum(line.failed for line in lines))
        finally:
            if bar is not None:
                bar.close()
        if progress.done() == progress.total:
            done_list, not_done = list(futures), []
        else:
            done_list = [f for f in futures if f.done]
            not_done = [f for f in futures if not f.done]
        if throw_except:
            failed = next((f for f in done_list if f.error), None) if progress.failed() \
                else None
            if failed is not None:
                self.fetch([failed])
                raise failed.job.exceptions[failed.index]
        if download_results:
            self.fetch(done_list)
        return done_list, not_done

    @staticmethod
    def _tell_waiting(progress: _Progress, missing: int) -> float:
        """Say (INFO) what the wait is for; the clock reading it started at, 0 when silent."""
        if not phases.telling():
            return 0.0
        names = [line.label for line in progress.lines()]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        counted = phases.plural(missing, "call") if missing == progress.total \
            else f"{missing} of {phases.plural(progress.total, 'call')}"
        phases.logger.info("waiting for %s (job %s)", counted, shown)
        return time.perf_counter()

    def fetch(self, futures: Sequence[ResponseFuture]) -> None:
        fetch_documents(missing_documents(futures), self.storage, self.bucket, self.serializer,
                        self.monitor.key, self)

    def fetch_jobs(self, jobs: Sequence[JobState]) -> None:
        fetch_documents(job_documents(jobs), self.storage, self.bucket, self.serializer,
                        self.monitor.key, self)

    def wait_and_fetch(self, futures: Sequence[ResponseFuture],
                       timeout: float | None = None) -> None:
        _, not_done = self.wait(futures, timeout=timeout, throw_except=False)
        if not_done:
            raise WaitTimeoutError(f"{len(not_done)} of {len(futures)} calls had not finished "
                                   f"after {timeout:g} s")
        self.fetch(futures)

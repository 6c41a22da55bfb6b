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

from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import InvalidInputError, WaitTimeoutError
from wren.client.futures import ResponseFuture
from wren.client.job import JobState
from wren.client.monitor import JobMonitor
from wren.client.progress import ProgressBar, wants_progress
from wren.client.results import fetch_documents, job_documents, missing_documents
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend

_PROGRESS_REFRESH = 0.25


class _Progress:
    """How many of a set of futures are done, cheaply: whole jobs by their counters."""

    def __init__(self, futures: Sequence[ResponseFuture],
                 jobs: Sequence[JobState] | None = None) -> None:
        self.total = len(futures)
        if jobs is not None:  # the caller vouches that futures are exactly these jobs'
            self.whole, self.partial = list(jobs), []
            return
        groups: dict[int, tuple[JobState, list[ResponseFuture]]] = {}
        for future in futures:
            groups.setdefault(id(future.job), (future.job, []))[1].append(future)
        self.whole = [job for job, members in groups.values() if len(members) == job.size]
        self.partial = [f for job, members in groups.values() if len(members) != job.size
                        for f in members]

    def done(self) -> int:
        self.partial = [f for f in self.partial if not f.done()]
        pending = sum(job.pending for job in self.whole) + len(self.partial)
        return self.total - pending

    def failed(self) -> bool:
        return any(job.failed for job in self.whole) or any(
            f.error for f in self.partial if f.done())


class ClientSession:
    """Storage, serializer, monitor and the condition they share, for one executor."""

    def __init__(self, storage: StorageBackend, bucket: str, serializer: Serializer,
                 monitor: JobMonitor, condition: threading.Condition, progress: bool) -> None:
        self.storage, self.bucket, self.serializer = storage, bucket, serializer
        self.monitor, self.condition, self.progress = monitor, condition, progress
        #: A weak reference to the executor that owns this session (set by it).
        self.owner: Callable[[], Any] = lambda: None

    def wait(self, futures: Sequence[ResponseFuture], return_when: str = ALL_COMPLETED,
             timeout: float | None = None, throw_except: bool = True,
             download_results: bool = False, jobs: Sequence[JobState] | None = None
             ) -> tuple[list[ResponseFuture], list[ResponseFuture]]:
        """Block until `return_when` holds for `futures` or `timeout` passes.

        `jobs`, when given, says that `futures` are exactly all futures of these jobs."""
        if return_when not in (ALL_COMPLETED, ANY_COMPLETED, ALWAYS):
            raise InvalidInputError(f"return_when must be ALL_COMPLETED, ANY_COMPLETED or "
                                    f"ALWAYS, got {return_when!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        progress = _Progress(futures, jobs)
        bar = None
        try:
            with self.condition:
                done = progress.done()
                if done < progress.total and return_when != ALWAYS and wants_progress(
                        self.progress):
                    bar = ProgressBar(progress.total, "wren")
                while done < progress.total and return_when != ALWAYS:
                    if bar is not None:
                        bar.update(done)
                    if return_when == ANY_COMPLETED and done > 0:
                        break
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
                    bar.update(done)
        finally:
            if bar is not None:
                bar.close()
        if progress.done() == progress.total:
            done_list, not_done = list(futures), []
        else:
            done_list = [f for f in futures if f.done()]
            not_done = [f for f in futures if not f.done()]
        if throw_except:
            failed = next((f for f in done_list if f.error), None) if progress.failed() \
                else None
            if failed is not None:
                self.fetch([failed])
                raise failed.job.exceptions[failed.index]
        if download_results:
            self.fetch(done_list)
        return done_list, not_done

    def fetch(self, futures: Sequence[ResponseFuture]) -> None:
        fetch_documents(missing_documents(futures), self.storage, self.bucket, self.serializer,
                        self.monitor.key)

    def fetch_jobs(self, jobs: Sequence[JobState]) -> None:
        fetch_documents(job_documents(jobs), self.storage, self.bucket, self.serializer,
                        self.monitor.key)

    def wait_and_fetch(self, futures: Sequence[ResponseFuture],
                       timeout: float | None = None) -> None:
        _, not_done = self.wait(futures, timeout=timeout, throw_except=False)
        if not_done:
            raise WaitTimeoutError(f"{len(not_done)} of {len(futures)} calls had not finished "
                                   f"after {timeout:g} s")
        self.fetch(futures)

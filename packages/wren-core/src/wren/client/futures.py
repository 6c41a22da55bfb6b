"""`ResponseFuture`: the client's handle on one call.

A future is just its job and its call index (two slots), because a 100,000-call map holds
100,000 of them. Its status, value and exception live in the job's columns (`JobState`),
filled a whole status document at a time; `stats` assembles the call's timeline from the
document that completed it, and `logs` what the call printed. Its state reads as Lithops'
does, as properties (`done`, `running`, `invoked`, `ready`, `success`, `error`). A future
pickles to a reference (`FutureReference`: executor, job, call, storage; never a key), so a
function may return the futures of an executor it created inside its worker and the client
follows them (`wren.client.composition`).
"""

from __future__ import annotations

import contextlib
import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat, starmap
from operator import attrgetter
from typing import Any

from wren.client.job import JobState
from wren.client.logs import call_logs
from wren.client.references import FutureReference, adopt

#: Jobs of this many calls or more make their futures with the garbage collector paused.
_PAUSE_COLLECTOR_FROM = 1000


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

    # State (properties, as in Lithops) ----------------------------------------------------
    @property
    def done(self) -> bool:
        """True once the call finished (successfully, failed or cancelled) and its status
        arrived."""
        return self._job.docs[self.index] is not None

    @property
    def new(self) -> bool:
        """True while the call was neither invoked nor finished (a reducer waiting for its
        map)."""
        return not self.invoked and not self.done

    @property
    def futures(self) -> bool:
        """True when the call's downloaded result is a future or a list of futures (of an
        executor it created in its worker; `get_result` follows them)."""
        value = self._job.values[self.index]
        return isinstance(value, ResponseFuture) or (
            isinstance(value, list) and bool(value)
            and all(isinstance(item, ResponseFuture) for item in value))

    @property
    def invoked(self) -> bool:
        """True once the call was handed to the compute backend (a `map_reduce` reducer is
        handed over when `spawn_reducer` percent of the map is done)."""
        return self._job.submitted_at > 0 and self.index not in self._job.cancelled

    @property
    def running(self) -> bool:
        """True from the moment the call is invoked until its status arrives (a call queued
        by its platform counts as running: wren is not told when a call starts)."""
        return self.invoked and not self.done

    @property
    def ready(self) -> bool:
        """True once the value or exception has been downloaded."""
        return self._job.has_value(self.index)

    @property
    def success(self) -> bool:
        """True once the call finished and returned a value."""
        return self.done and self.error_info is None

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

    def cancel(self) -> bool:
        """Cancel the call if it was not handed to the compute backend yet (a reducer still
        waiting for its map): it will not run, the future is done and `result()` raises
        `CancelledError`. A call already invoked cannot be cancelled (False): it runs to
        its end and its future keeps its result."""
        return self._job.executor_services.cancel(self)

    def cancelled(self) -> bool:
        """True when `cancel()` stopped this call from running."""
        return self.index in self._job.cancelled

    # Results ------------------------------------------------------------------------------
    def result(self, throw_except: bool = True, internal_storage: Any = None,
               retries: int | None = None, wait_dur_sec: float | None = None,
               timeout: float | None = None) -> Any:
        """Wait for the call and return its value (re-raising its exception; None for a
        failed call when `throw_except=False`). `internal_storage`, `retries` and
        `wait_dur_sec` are Lithops' and unused: statuses arrive through the executor's
        monitor, and a result is in storage before its status."""
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
        from wren.client.stats import call_stats  # only when asked for

        return call_stats(self._job, self.index)

    @property
    def logs(self) -> str | None:
        """What the call printed (stdout and stderr, interleaved): "" when nothing, None
        while the call has not finished. Read from storage once per batch of calls."""
        return call_logs(self._job, self.index)

    # Pickling: a reference, never the job's columns nor any key ---------------------------
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        job = self._job
        services = job.executor_services
        reference = FutureReference(
            job.executor_id, job.job_key, job.kind.value, job.size, self.index,
            job.produces_output, services.storage.name, services.bucket,
            services.serializer.name)
        return adopt_future, (reference,)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled() else "error" if self.error else \
            "done" if self.done else "pending"
        return f"<ResponseFuture {self.job_key}/{self.call_id} {state}>"


class FuturesList(list[ResponseFuture]):
    """The futures of a `map` or `map_reduce`, chained on the executor that made them.

    `map(f)` and `map_reduce(f, reducer)` start a new job over this list's results (each
    future is one call's input, read by the worker from storage) on the same executor; the
    list then holds the new job's futures, and `wait()` and `get_result()` cover the whole
    chain (`get_result` gives the last job's results: the earlier ones only feed it).
    Pickled, the list keeps its futures' references and drops its executor.
    """

    executor: Any = None
    config: Any = None

    def __init__(self, futures: Any = (), executor: Any = None) -> None:
        super().__init__(futures)
        if executor is not None:
            self.executor, self.config = executor, executor.config
        #: Every future of the chain, oldest job first (None until something is chained).
        self.alt_list: list[ResponseFuture] | None = None

    def _executor(self) -> Any:
        if self.executor is None:
            from wren._errors import InvalidInputError

            raise InvalidInputError(
                "this FuturesList has no executor (it was unpickled or built by hand): pass "
                "its futures to an executor's map, wait or get_result instead")
        return self.executor

    def _all_futures(self) -> list[ResponseFuture]:
        return list(self) if self.alt_list is None else self.alt_list

    def _chain(self, new: list[ResponseFuture]) -> FuturesList:
        for job in {id(f.job): f.job for f in self}.values():
            job.produces_output = False  # only the last job of a chain gives results
        self.alt_list = [*self._all_futures(), *new]
        self[:] = new
        return self

    def map(self, map_function: Any, sync: bool = False, **kwargs: Any) -> FuturesList:
        """Run `map_function` once per future of this list, on its result; `sync=True`
        waits for this list first (else each call waits for its input in its worker)."""
        executor = self._executor()
        if sync:
            executor.wait(self)
        return self._chain(executor.map(map_function, self, **kwargs))

    def map_reduce(self, map_function: Any, reduce_function: Any, sync: bool = False,
                   **kwargs: Any) -> FuturesList:
        """`map`, then reduce its results with `reduce_function` (see `map`)."""
        executor = self._executor()
        if sync:
            executor.wait(self)
        return self._chain(executor.map_reduce(map_function, self, reduce_function, **kwargs))

    def wait(self, **kwargs: Any) -> tuple[list[ResponseFuture], list[ResponseFuture]]:
        """The executor's `wait` over every job of the chain."""
        found: tuple[list[ResponseFuture], list[ResponseFuture]] = self._executor().wait(
            self._all_futures(), **kwargs)
        return found

    def get_result(self, **kwargs: Any) -> Any:
        """The executor's `get_result` over the chain: the last job's results."""
        return self._executor().get_result(self._all_futures(), **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return FuturesList, (list(self),), {"alt_list": self.alt_list}


#: The job of a future, read without a Python-level call (for loops over 100,000 futures).
job_of: Callable[[ResponseFuture], JobState] = attrgetter("_job")


def distinct_jobs(futures: Iterable[ResponseFuture]) -> list[JobState]:
    """The distinct jobs of some futures, in order of first appearance."""
    return list(dict.fromkeys(map(job_of, futures)))


def adopt_future(reference: FutureReference) -> ResponseFuture:
    """A future from its pickled reference: the same future when its executor lives in this
    process, else one that reads the call's status and result from storage."""
    job = adopt(reference)
    return futures_of(job)[reference.index]


def futures_of(job: JobState) -> list[ResponseFuture]:
    """One future per call of `job`, made on first use (after the tasks are dispatched, so
    building them overlaps with the workers' start) and kept on the job."""
    if job.made_futures is None:
        if job.size < _PAUSE_COLLECTOR_FROM:
            job.made_futures = [ResponseFuture(job, i) for i in range(job.size)]
        elif not gc.isenabled():
            job.made_futures = _many_futures(job)
        else:
            with _collector_paused():
                job.made_futures = _many_futures(job)
    return job.made_futures


def _many_futures(job: JobState) -> list[ResponseFuture]:
    """The futures of a big job, made without a Python call per future (0.6 instead of
    1.1 ms per 10,000: the client makes them while the job's workers start, on the same
    cores). They are instances of a subclass made for the job, which holds the job as a
    class attribute (read like the slot it shadows) and keeps `__init__` in C, so the
    interpreter makes them empty from C and sets only their `index`; they are
    `ResponseFuture`s in every other way."""
    own = type(ResponseFuture.__name__, (ResponseFuture,), {
        "__slots__": (), "__init__": object.__init__, "_job": job,
        "__module__": ResponseFuture.__module__, "__qualname__": ResponseFuture.__qualname__})
    futures: list[ResponseFuture] = list(starmap(own, repeat((), job.size)))
    deque(map(setattr, futures, repeat("index"), range(job.size)), 0)
    return futures


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Make thousands of long-lived objects without the collector looking at them: paused,
    it would otherwise run over and over meanwhile (half the time of making them), and the
    first collection after would still scan them all (a millisecond per 10,000). So they go
    straight to the oldest generation (`gc.freeze` then `gc.unfreeze`: two list splices),
    as everything young does, unless the program froze objects of its own, which unfreezing
    would thaw."""
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()

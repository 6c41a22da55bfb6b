"""Which jobs some futures belong to, and their results in the shape `get_result` returns.

Futures that make up whole jobs are handled job by job (one slice per job, no per-future
work), others one by one. A `call_async` job or a reducer job of one call gives a single
value; anything else a list in call order. With `throw_except=False`, a failed call keeps
its place in that list with None, and one warning names the failed calls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import chain
from typing import Any

from wren.client.futures import ResponseFuture, distinct_jobs, futures_of
from wren.client.job import JobState
from wren.protocol.task import JobKind

logger = logging.getLogger("wren")

#: How many failed calls the warning of `get_result(throw_except=False)` names.
_NAMED = 10


def jobs_of(futures: Sequence[ResponseFuture]) -> list[JobState]:
    """The distinct jobs of some futures, in order of first appearance."""
    if futures and futures[0].job is futures[-1].job and \
            _leading(futures, futures_of(futures[0].job)):
        return [futures[0].job]
    return distinct_jobs(futures)


def _leading(futures: Sequence[ResponseFuture], made: list[ResponseFuture]) -> bool:
    """Whether `futures` are the first futures of a job, in order (`made`: all of them);
    a whole job's list is compared as it is, not copied first (a list subclass, such as a
    map's `FuturesList`, compares item by item as a list does: by identity first)."""
    if len(futures) == len(made):
        return futures == made if isinstance(futures, list) else list(futures) == made
    return list(futures) == made[:len(futures)]


def covers_whole_jobs(futures: Sequence[ResponseFuture], jobs: Sequence[JobState]) -> bool:
    """True when `futures` are exactly all futures of `jobs` (each once)."""
    if len(jobs) == 1:
        return len(futures) == jobs[0].size and _leading(futures, futures_of(jobs[0]))
    if len(futures) != sum(job.size for job in jobs):
        return False
    if list(futures) == list(chain.from_iterable(map(futures_of, jobs))):
        return True  # jobs' futures in order (as map_reduce returns them): no per-call work
    return all(
        job.size == len({f.index for f in futures if f.job is job}) for job in jobs)


def wants_single_value(futures: Sequence[ResponseFuture] | ResponseFuture | None,
                       jobs: Sequence[JobState]) -> bool:
    """True when `get_result` returns one value rather than a list."""
    if isinstance(futures, ResponseFuture):
        return True
    outputs = [job for job in jobs if job.produces_output]
    if len(outputs) != 1 or outputs[0].size != 1:
        return False
    kind = outputs[0].kind
    return kind is JobKind.REDUCE or (futures is None and kind is JobKind.CALL)


def collect_jobs(jobs: Sequence[JobState], throw_except: bool, single: bool
                 ) -> tuple[Any, list[str]]:
    """The results of whole jobs, in call order, and the calls that failed: the first
    failure is raised, or (`throw_except=False`) a failed call's place holds None."""
    if throw_except:
        for job in jobs:
            if job.exceptions:
                raise job.exceptions[min(job.exceptions)]
    values: list[Any] = []
    for job in jobs:
        if job.produces_output:
            values.extend(job.values)
    failed = [f"{job.job_key}/{index:05d}" for job in jobs for index in sorted(job.exceptions)]
    return ((values[0] if values else None) if single else values), failed


def collect_futures(futures: Sequence[ResponseFuture], throw_except: bool,
                    single: bool) -> tuple[Any, list[str]]:
    """The results of some futures, in their order, and the calls that failed (see
    `collect_jobs`)."""
    failed: list[str] = []
    for future in futures:
        exc = future.job.exception(future.index)
        if exc is not None:
            if throw_except:
                raise exc
            failed.append(f"{future.job_key}/{future.call_id}")
    values = [f.job.value(f.index) for f in futures if f.produces_output]
    return ((values[0] if values else None) if single else values), failed


def warn_failed(failed: Sequence[str], total: int) -> None:
    """One warning naming the calls whose place in `get_result`'s list holds None."""
    if not failed:
        return
    shown = ", ".join(failed[:_NAMED])
    more = f" and {len(failed) - _NAMED} more" if len(failed) > _NAMED else ""
    logger.warning("%d of %d calls failed; their results are None (each future's exception() "
                   "says why): %s%s", len(failed), total, shown, more)


def mark_read(futures: Sequence[ResponseFuture], jobs: Sequence[JobState],
              whole: bool) -> None:
    """Note that these results were handed to the user."""
    if whole:
        for job in jobs:
            job.mark_read()
    else:
        for future in futures:
            future.job.mark_read((future.index,))

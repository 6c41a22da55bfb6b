"""Which jobs some futures belong to, and their results in the shape `get_result` returns.

Futures that make up whole jobs are handled job by job (one slice per job, no per-future
work), others one by one. A `call_async` job or a reducer job of one call gives a single
value; anything else a list in call order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wren.client.futures import ResponseFuture, futures_of
from wren.client.job import JobState
from wren.protocol.task import JobKind


def jobs_of(futures: Sequence[ResponseFuture]) -> list[JobState]:
    """The distinct jobs of some futures, in order of first appearance."""
    if futures and futures[0].job is futures[-1].job and \
            futures == futures_of(futures[0].job)[:len(futures)]:
        return [futures[0].job]
    return list({id(f.job): f.job for f in futures}.values())


def covers_whole_jobs(futures: Sequence[ResponseFuture], jobs: Sequence[JobState]) -> bool:
    """True when `futures` are exactly all futures of `jobs` (each once)."""
    if len(jobs) == 1:
        return len(futures) == jobs[0].size and list(futures) == futures_of(jobs[0])
    return len(futures) == sum(job.size for job in jobs) and all(
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


def collect_jobs(jobs: Sequence[JobState], throw_except: bool, single: bool) -> Any:
    """The results of whole jobs (their first failure raised, or failed calls left out)."""
    if throw_except:
        for job in jobs:
            if job.exceptions:
                raise job.exceptions[min(job.exceptions)]
    values: list[Any] = []
    for job in jobs:
        if not job.produces_output:
            continue
        if job.exceptions:
            values.extend(v for i, v in enumerate(job.values) if i not in job.exceptions)
        else:
            values.extend(job.values)
    return (values[0] if values else None) if single else values


def collect_futures(futures: Sequence[ResponseFuture], throw_except: bool,
                    single: bool) -> Any:
    """The results of some futures (the first failure raised, or failed calls left out)."""
    if throw_except:
        for future in futures:
            exc = future.job.exception(future.index)
            if exc is not None:
                raise exc
    values = [f.job.value(f.index) for f in futures
              if f.produces_output and f.job.exception(f.index) is None]
    return (values[0] if values else None) if single else values


def mark_read(futures: Sequence[ResponseFuture], jobs: Sequence[JobState],
              whole: bool) -> None:
    """Note that these results were handed to the user."""
    if whole:
        for job in jobs:
            job.mark_read()
    else:
        for future in futures:
            future.job.mark_read((future.index,))

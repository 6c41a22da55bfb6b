"""Dynamic composition: results that are futures are followed to their own results.

A function may create an executor inside its worker and return that executor's futures (one,
or a list of them). Their references reach the client inside the call's sealed result and
are adopted by the client's session (`wren.client.references`), which reads their statuses
and results from storage with the key it derives for that inner executor. `follow` replaces
each such value by its futures' results, recursively, so `get_result` returns values, never
futures; what it read is returned too, so the executor can mark and clean those jobs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from wren._constants import ALL_COMPLETED
from wren._errors import WaitTimeoutError
from wren.client.futures import ResponseFuture
from wren.client.job import JobState


def holds_futures(value: Any) -> bool:
    """True for a future, or a non-empty list (a `FuturesList` too) of nothing but futures."""
    if isinstance(value, ResponseFuture):
        return True
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, ResponseFuture) for item in value)


def _as_futures(value: Any) -> list[ResponseFuture]:
    return [value] if isinstance(value, ResponseFuture) else list(value)


class Follower:
    """Follows returned futures for one `get_result` (its timeout covers every level)."""

    def __init__(self, throw_except: bool, timeout: float | None) -> None:
        self.throw_except = throw_except
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.failed: list[str] = []
        self.jobs: dict[int, JobState] = {}
        #: How many returned futures were followed.
        self.followed = 0

    def follow(self, value: Any, single: bool) -> Any:
        """`value` (one result when `single`, else a list of them) with returned futures
        replaced by their results."""
        if single:
            return self._results([value])[0] if holds_futures(value) else value
        kinds = set(map(type, value))  # at C speed: most results hold no future at all
        if not any(issubclass(kind, (ResponseFuture, list)) for kind in kinds):
            return value
        positions = [i for i, item in enumerate(value) if holds_futures(item)]
        if not positions:
            return value
        followed = self._results([value[i] for i in positions])
        value = list(value)
        for position, result in zip(positions, followed):
            value[position] = result
        return value

    def late(self, futures: Sequence[ResponseFuture]) -> list[ResponseFuture]:
        """Wait (within the timeout) for what these done, downloaded futures returned as
        futures, recursively; return those whose returned futures did not all finish."""
        held = [(f, f.job.value(f.index)) for f in futures if f.job.exception(f.index) is None
                and holds_futures(f.job.value(f.index))]
        if not held:
            return []
        inner = [g for _, value in held for g in _as_futures(value)]
        try:
            self._wait(inner)
        except WaitTimeoutError:
            return [f for f, value in held if not all(g.done for g in _as_futures(value))]
        if self.throw_except:
            for future in inner:
                exc = future.job.exception(future.index)
                if exc is not None:
                    raise exc
        deeper = {id(g) for g in self.late(inner)}
        return [f for f, value in held if any(id(g) in deeper for g in _as_futures(value))]

    def _results(self, held: Sequence[Any]) -> list[Any]:
        """The results of each held future (or list of futures), in order."""
        futures = [f for item in held for f in _as_futures(item)]
        self._wait(futures)
        values = self.follow([self._value(f) for f in futures], single=False)
        out: list[Any] = []
        position = 0
        for item in held:
            if isinstance(item, ResponseFuture):
                out.append(values[position])
                position += 1
            else:
                out.append(values[position:position + len(item)])
                position += len(item)
        return out

    def _wait(self, futures: Sequence[ResponseFuture]) -> None:
        self.followed += len(futures)
        by_session: dict[int, tuple[Any, list[ResponseFuture]]] = {}
        for future in futures:
            services = future.job.executor_services
            by_session.setdefault(id(services), (services, []))[1].append(future)
            self.jobs[id(future.job)] = future.job
        for services, members in by_session.values():
            if not hasattr(services, "wait"):  # futures no executor here can read
                services.wait_and_fetch(members)
            left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            _, not_done = services.wait(members, ALL_COMPLETED, left, throw_except=False)
            if not_done:
                raise WaitTimeoutError(
                    f"{len(not_done)} of the {len(members)} calls that results returned as "
                    f"futures had not finished after {self.timeout:g} s")
            services.fetch(members)

    def _value(self, future: ResponseFuture) -> Any:
        job, index = future.job, future.index
        job.read[index] = True
        exc = job.exception(index)
        if exc is not None:
            if self.throw_except:
                raise exc
            self.failed.append(f"{future.job_key}/{future.call_id}")
            return None
        return job.value(index)

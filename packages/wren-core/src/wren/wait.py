"""`wren.wait`: the wait constants as a module, and `wait` / `get_result` over any futures.

A Lithops script writes `from lithops.wait import ALL_COMPLETED` (the module) and also calls
`lithops.wait(fs)` (the function the package exports under the same name); both forms work
with `wren`. The functions find the executor that made the futures and ask it, so they work
on futures of any executor, several executors included. The constants are those of
`wren._constants`; the function `wait` carries them as attributes as well, so
`wren.wait.ALL_COMPLETED` is right whichever of the two `wren.wait` names.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import InvalidInputError

if TYPE_CHECKING:
    from wren.client.futures import ResponseFuture
    from wren.executor import FunctionExecutor

#: Lithops' tuning knobs of `wait`/`get_result`: wren's monitor needs none of them. They are
#: accepted (so a script runs unchanged) and each is explained in the migration guide.
_NOT_NEEDED = ("threadpool_size", "wait_dur_sec")


def _futures(fs: Any) -> list[ResponseFuture]:
    from wren.client.futures import ResponseFuture

    if isinstance(fs, ResponseFuture):
        return [fs]
    if not isinstance(fs, Iterable) or isinstance(fs, str | bytes):
        raise InvalidInputError(f"expected a future or a list of futures, got "
                                f"{type(fs).__name__}")
    found = list(fs)
    for item in found:
        if not isinstance(item, ResponseFuture):
            raise InvalidInputError(f"expected futures, got an item of type "
                                    f"{type(item).__name__}")
    return found


def _by_executor(futures: list[ResponseFuture]) -> list[tuple[FunctionExecutor,
                                                               list[ResponseFuture]]]:
    """The futures grouped by the executor that made them, in first-seen order."""
    from wren.executor import FunctionExecutor

    groups: dict[int, tuple[FunctionExecutor, list[ResponseFuture]]] = {}
    for future in futures:
        services = future.job.executor_services
        if id(services) not in groups:
            reference = getattr(services, "owner", None)
            owner = reference() if reference is not None else None
            if not isinstance(owner, FunctionExecutor):
                raise InvalidInputError(
                    f"future {future.call_id} of executor {future.executor_id}: that executor "
                    "no longer exists; keep a reference to an executor while you use its "
                    "futures")
            groups[id(services)] = (owner, [])
        groups[id(services)][1].append(future)
    return list(groups.values())


def _refuse_internals(internal_storage: Any, job_monitor: Any) -> None:
    if internal_storage is not None or job_monitor is not None:
        raise InvalidInputError("wren.wait/get_result find storage and monitor through the "
                                "futures' executor: remove internal_storage= and job_monitor=")


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def wait(fs: Any, internal_storage: Any = None, job_monitor: Any = None,
         throw_except: bool = True, return_when: Any = ALL_COMPLETED,
         download_results: bool = False, timeout: float | None = None,
         threadpool_size: int | None = None, wait_dur_sec: float | None = None,
         show_progressbar: bool | None = None) -> tuple[list[ResponseFuture],
                                                        list[ResponseFuture]]:
    """Wait for `fs` (futures of one or more executors) as `FunctionExecutor.wait` does;
    return `(done, not_done)`. With futures of several executors only `ALL_COMPLETED`
    is meaningful across them; other `return_when` values are refused."""
    _refuse_internals(internal_storage, job_monitor)
    del threadpool_size, wait_dur_sec, show_progressbar  # see _NOT_NEEDED
    groups = _by_executor(_futures(fs))
    if not groups:
        return [], []
    if len(groups) == 1:
        owner, futures = groups[0]
        return owner.wait(futures, throw_except=throw_except, return_when=return_when,
                          download_results=download_results, timeout=timeout)
    if return_when != ALL_COMPLETED:
        raise InvalidInputError(
            f"return_when={return_when!r} over futures of {len(groups)} executors: wait for "
            "each executor's futures separately, or use return_when=ALL_COMPLETED")
    deadline = None if timeout is None else time.monotonic() + timeout
    done: list[ResponseFuture] = []
    not_done: list[ResponseFuture] = []
    for owner, futures in groups:
        finished, pending = owner.wait(futures, throw_except=throw_except,
                                       return_when=ALL_COMPLETED,
                                       download_results=download_results,
                                       timeout=_left(deadline))
        done += finished
        not_done += pending
    return done, not_done


def get_result(fs: Any, internal_storage: Any = None, throw_except: bool = True,
               timeout: float | None = None, threadpool_size: int | None = None,
               wait_dur_sec: float | None = None, show_progressbar: bool | None = None) -> Any:
    """The results of `fs` as `FunctionExecutor.get_result` gives them; futures of several
    executors give one list, in the order of `fs`."""
    _refuse_internals(internal_storage, None)
    del threadpool_size, wait_dur_sec, show_progressbar  # see _NOT_NEEDED
    futures = _futures(fs)
    groups = _by_executor(futures)
    if len(groups) <= 1:
        if not groups:
            return []
        return groups[0][0].get_result(fs, throw_except=throw_except, timeout=timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    by_future: dict[int, Any] = {}
    for owner, group in groups:
        values = owner.get_result(group, throw_except=throw_except, timeout=_left(deadline))
        # one value per future; `None` stands for a failed call when throw_except=False
        answered = group if len(values) == len(group) else [f for f in group if not f.error]
        by_future.update(zip(map(id, answered), values, strict=True))
    return [by_future.get(id(f)) for f in futures]


for _name, _value in (("ALL_COMPLETED", ALL_COMPLETED), ("ALWAYS", ALWAYS),
                      ("ANY_COMPLETED", ANY_COMPLETED)):
    setattr(wait, _name, _value)

__all__ = ["ALL_COMPLETED", "ALWAYS", "ANY_COMPLETED", "get_result", "wait"]

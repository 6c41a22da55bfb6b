"""`RetryingFunctionExecutor`: a `FunctionExecutor` whose failed calls are run again.

As `lithops.retries` offers: `call_async` and `map` return `RetryingFuture`s, and `wait`
resubmits every call that failed — it raised, or its worker was lost or killed — until it
succeeds or has been retried `retries` times (the argument, else the `wren` section's
`retries` key, default 0). Calls failing in the same round are resubmitted together, as one
`map` job per original job. A future's `stats["attempt"]` says which attempt (1 = the first
submission) produced its result; `result()` and `get_result` wait (and retry) first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import InvalidInputError, WaitTimeoutError
from wren.client.binding import takes_obj


# The only two places that read a wren future's state (shared with wren.concurrent.futures).
def call_finished(future: Any) -> bool:
    """True once a wren future's call finished (`done` as a method or as a property)."""
    done = future.done
    return bool(done() if callable(done) else done)


def call_failed(future: Any) -> bool:
    """True when a finished wren call failed (read from its status, nothing downloaded)."""
    return future.error_info is not None


class _Origin:
    """How calls were submitted (`call_async` or `map`, function, options), to do it again."""

    __slots__ = ("func", "options", "single")

    def __init__(self, single: bool, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.single, self.func, self.options = single, func, options


class RetryingFuture:
    """A call that `RetryingFunctionExecutor.wait` runs again when it fails. The wren future
    of its latest attempt is `response_future`; other attributes are read from it."""

    def __init__(self, response_future: Any, map_function: Callable[..., Any], input: Any,
                 retries: int | None = None, *, owner: RetryingFunctionExecutor | None = None,
                 origin: _Origin | None = None) -> None:
        self.response_future = response_future
        self.map_function = map_function
        self.input = input
        self.retries = retries or 0
        self.failure_count = 0
        self.attempts = 1
        self.cancelled = False
        self._owner = owner
        self._origin = origin or _Origin(False, map_function, {})
        self._final = False

    def cancel(self) -> None:
        """Give up any further retry (an attempt already running is left alone)."""
        self.cancelled = True

    def _retryable(self) -> bool:
        return not self.cancelled and self.failure_count <= self.retries

    @property
    def done(self) -> bool:
        """True once the latest attempt finished."""
        return call_finished(self.response_future)

    @property
    def error(self) -> bool:
        """True when the latest attempt failed."""
        return call_finished(self.response_future) and call_failed(self.response_future)

    @property
    def stats(self) -> dict[str, Any]:
        """The latest attempt's stats plus `attempt` (1 = the first submission)."""
        return {**self.response_future.stats, "attempt": self.attempts}

    def result(self, throw_except: bool = True, timeout: float | None = None) -> Any:
        """Wait (retrying failures) and return the value of the call."""
        if self._owner is not None:
            self._owner.wait([self], throw_except=False, timeout=timeout)
        return self.response_future.result(throw_except=throw_except, timeout=timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._owner is not None:
            self._owner.wait([self], throw_except=False, timeout=timeout)
        return self.response_future.exception(timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.response_future, name)

    def __repr__(self) -> str:
        return f"<RetryingFuture attempt {self.attempts} of {self.response_future!r}>"


class RetryingFunctionExecutor:
    """Wraps a `wren.FunctionExecutor`; usable as a context manager (closing it)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.config = executor.config
        self._futures: list[RetryingFuture] = []

    def __enter__(self) -> RetryingFunctionExecutor:
        self.executor.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.executor.__exit__(*exc_info)

    def close(self) -> None:
        self.executor.close()

    @property
    def futures(self) -> list[RetryingFuture]:
        """Every retrying future this wrapper created, in submission order."""
        return list(self._futures)

    def _retries_to_use(self, retries: int | None) -> int:
        value = self.config.wren.get("retries", 0) if retries is None else retries
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInputError(f"retries must be a non-negative integer, got {value!r}")
        return int(value)

    # Submitting ---------------------------------------------------------------------------
    def call_async(self, func: Callable[..., Any], data: Any = (), *,
                   retries: int | None = None, **options: Any) -> RetryingFuture:
        """`FunctionExecutor.call_async`, retried up to `retries` times by `wait`."""
        budget = self._retries_to_use(retries)
        future = self.executor.call_async(func, data, **options)
        made = RetryingFuture(future, func, data, budget, owner=self,
                              origin=_Origin(True, func, options))
        self._futures.append(made)
        return made

    def map(self, map_function: Callable[..., Any], map_iterdata: Iterable[Any],
            chunksize: int | None = None, extra_args: Any = None, *,
            retries: int | None = None, **options: Any) -> list[RetryingFuture]:
        """`FunctionExecutor.map` (the same keyword options; positionally `chunksize` and
        `extra_args` as in Lithops), each call retried up to `retries` times."""
        budget = self._retries_to_use(retries)
        chunking = ("chunk_size", "chunk_n", "obj_chunk_size", "obj_chunk_number")
        if takes_obj(map_function) or any(options.get(k) is not None for k in chunking):
            raise InvalidInputError(
                "RetryingFunctionExecutor.map retries ordinary maps only: a data-processing "
                "map (a function with an `obj` parameter) splits its inputs into chunks that "
                "cannot be resubmitted one by one; use the FunctionExecutor for it")
        items = list(map_iterdata)
        if chunksize is not None:
            options["chunksize"] = chunksize
        if extra_args is not None:
            options["extra_args"] = extra_args
        futures = self.executor.map(map_function, items, **options)
        origin = _Origin(False, map_function, options)
        made = [RetryingFuture(f, map_function, item, budget, owner=self, origin=origin)
                for f, item in zip(futures, items)]
        self._futures.extend(made)
        return made

    def _resubmit(self, failed: Sequence[RetryingFuture]) -> None:
        """Run `failed` calls again: one `map` job per original job (`call_async` each)."""
        groups: dict[int, list[RetryingFuture]] = {}
        for future in failed:
            groups.setdefault(id(future._origin), []).append(future)
        for group in groups.values():
            origin = group[0]._origin
            if origin.single:
                fresh = [self.executor.call_async(origin.func, f.input, **origin.options)
                         for f in group]
            else:
                fresh = list(self.executor.map(origin.func, [f.input for f in group],
                                               **origin.options))
            for future, response in zip(group, fresh):
                future.response_future = response
                future.attempts += 1

    # Waiting ------------------------------------------------------------------------------
    def wait(self, fs: RetryingFuture | Sequence[RetryingFuture] | None = None,
             throw_except: bool = True, return_when: int | str = ALL_COMPLETED,
             download_results: bool = False, timeout: float | None = None,
             **_lithops_options: Any) -> tuple[list[RetryingFuture], list[RetryingFuture]]:
        """Wait as `FunctionExecutor.wait` does, resubmitting calls that fail while they
        have retries left; return `(done, not_done)`. With `throw_except`, a call that
        failed for good raises its exception. Lithops' polling options are accepted."""
        futures = self.futures if fs is None else \
            [fs] if isinstance(fs, RetryingFuture) else list(fs)
        if return_when not in (ALL_COMPLETED, ANY_COMPLETED, ALWAYS):
            raise InvalidInputError(f"return_when must be ALL_COMPLETED, ANY_COMPLETED or "
                                    f"ALWAYS, got {return_when!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            open_ = [f for f in futures if not f._final]
            if open_ and not (return_when == ANY_COMPLETED and len(open_) < len(futures)):
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = self.executor.wait(
                    [f.response_future for f in open_], throw_except=False,
                    return_when=ALWAYS if return_when == ALWAYS else ANY_COMPLETED,
                    timeout=left, **({"download_results": True} if download_results else {}))
                self._settle(open_, done)
            if throw_except:
                for future in futures:
                    if future._final and call_failed(future.response_future):
                        future.response_future.result(throw_except=True)
            finished = [f for f in futures if f._final]
            if return_when == ALWAYS or len(finished) == len(futures) or (
                    return_when == ANY_COMPLETED and finished) or (
                    deadline is not None and time.monotonic() >= deadline):
                return finished, [f for f in futures if not f._final]

    def _settle(self, open_: Sequence[RetryingFuture], done: Sequence[Any]) -> None:
        by_response = {id(f.response_future): f for f in open_}
        retry = []
        for response in done:
            future = by_response.get(id(response))
            if future is None:
                continue
            if call_failed(response):
                future.failure_count += 1
                if future._retryable():
                    retry.append(future)
                    continue
            future._final = True
        if retry:
            self._resubmit(retry)

    def get_result(self, fs: RetryingFuture | Sequence[RetryingFuture] | None = None,
                   throw_except: bool = True, timeout: float | None = None) -> Any:
        """Wait (retrying failures), then `FunctionExecutor.get_result` of the latest
        attempts: a value for one future, a list in order for several."""
        futures = self.futures if fs is None else \
            [fs] if isinstance(fs, RetryingFuture) else list(fs)
        _, not_done = self.wait(futures, throw_except=throw_except, timeout=timeout)
        if not_done:
            raise WaitTimeoutError(f"{len(not_done)} of {len(futures)} calls had not finished "
                                   f"after {timeout:g} s; call get_result again to keep "
                                   "waiting")
        if isinstance(fs, RetryingFuture):
            return self.executor.get_result(fs.response_future, throw_except=throw_except)
        return self.executor.get_result([f.response_future for f in futures],
                                        throw_except=throw_except)

    def clean(self, fs: Sequence[RetryingFuture] | None = None, **options: Any) -> None:
        """`FunctionExecutor.clean` of these futures' latest attempts (default: all)."""
        futures = self.futures if fs is None else list(fs)
        self.executor.clean([f.response_future for f in futures], **options)

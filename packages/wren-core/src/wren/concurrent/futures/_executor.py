"""The drop-in executors: `concurrent.futures.Executor` subclasses that run calls on wren.

`FunctionExecutor` wraps a `wren.FunctionExecutor` (made from `backend=`, `config=` and the
other keyword arguments, or given as `executor=`); `LocalhostExecutor` pins the localhost
backend; `ProcessPoolExecutor` and `ThreadPoolExecutor` accept their standard-library
signatures, so changing an import line is enough. `submit` returns a `Future` that is a real
`concurrent.futures.Future`; `map` is eager, sends all its calls as one wren `map` job
(`chunksize` calls per worker task; the default 1 lets the backend choose) and yields
results in order. A call is *running* from the moment it is handed to wren, so `cancel()`
only succeeds while it is still queued here, as with the standard library's pools.
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent import futures as cf
from typing import Any

from wren.concurrent.futures._bridge import Batch, Bridge
from wren.concurrent.futures._calls import ArgsCall, ChunkCall, ValueCall, ValuesCall, _Call

_live: weakref.WeakSet[FunctionExecutor] = weakref.WeakSet()
_exit_hook = threading.Lock()
_hooked = False


class Future(cf.Future):
    """A `concurrent.futures.Future` whose call runs on wren; `response_future` is the wren
    future once the call was dispatched (None before), `stats` its timings."""

    response_future: Any = None

    @property
    def stats(self) -> dict[str, Any]:
        """The wren call's stats (`wren.ResponseFuture.stats`); {} before it was sent."""
        return {} if self.response_future is None else dict(self.response_future.stats)


def _shutdown_all() -> None:
    """At interpreter exit, finish what live executors still run (as the standard library
    waits for its pools), before wren's own exit hooks stop the monitors."""
    for executor in list(_live):
        executor.shutdown(wait=True)


def _hook_exit() -> None:
    global _hooked
    with _exit_hook:
        if not _hooked:  # registered after wren's executor exists, so it runs before its hooks
            atexit.register(_shutdown_all)
            _hooked = True


def _plain(value: Any) -> bool:
    return not isinstance(value, (tuple, list, Mapping))


class FunctionExecutor(cf.Executor):
    """A `concurrent.futures.Executor` over a `wren.FunctionExecutor`.

    `max_workers` caps the backend's concurrent workers; `initializer(*initargs)` runs once
    per worker process before its first call; `runtime_memory`, `extra_env`,
    `execution_timeout`, `include_modules` and `exclude_modules` apply to every call; the
    other keyword arguments (`backend`, `storage`, `config`, ...) make the wren executor,
    unless `executor=` gives one (then it is neither configured nor closed here).
    """

    _backend: str | None = None

    def __init__(self, max_workers: int | None = None, *, executor: Any = None,
                 initializer: Callable[..., Any] | None = None, initargs: tuple[Any, ...] = (),
                 runtime_memory: int | None = None, extra_env: Mapping[str, str] | None = None,
                 execution_timeout: float | None = None,
                 include_modules: list[str] | None = None,
                 exclude_modules: list[str] | None = None, **kwargs: Any) -> None:
        from wren.executor import FunctionExecutor as WrenExecutor

        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if executor is not None and not isinstance(executor, WrenExecutor):
            raise TypeError(f"executor= must be a wren.FunctionExecutor, got "
                            f"{type(executor).__name__}")
        self._owns = executor is None
        if executor is None:
            if self._backend is not None:
                kwargs.setdefault("backend", self._backend)
            kwargs.setdefault("progress", False)  # no progress bars from background threads
            executor = WrenExecutor(max_workers=max_workers, **kwargs)
        self._wren = executor
        self._initializer, self._initargs = initializer, tuple(initargs)
        self._token = uuid.uuid4().hex
        options = {"runtime_memory": runtime_memory, "extra_env": extra_env,
                   "timeout": execution_timeout, "include_modules": include_modules,
                   "exclude_modules": exclude_modules}
        self._lock = threading.Lock()
        self._shut = False
        self._broken: BaseException | None = None
        self._bridge = Bridge(executor, {k: v for k, v in options.items() if v is not None},
                              self._mark_broken, self._release)
        _live.add(self)
        _hook_exit()

    @property
    def wren_executor(self) -> Any:
        """The `wren.FunctionExecutor` that runs the calls."""
        return self._wren

    # Submitting ---------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._broken is not None:
            raise cf.BrokenExecutor(f"this executor is broken: {self._broken}")
        if self._shut:
            raise RuntimeError("cannot schedule new futures after shutdown")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule `fn(*args, **kwargs)`; return its `Future`."""
        with self._lock:
            self._check_open()
            future = Future()
            self._bridge.put(Batch(self._wrap(ArgsCall, fn), [(future, (args, kwargs))],
                                   merge=True))
        return future

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any],
            timeout: float | None = None, chunksize: int = 1) -> Iterator[Any]:
        """`fn` over the iterables' items in parallel, all submitted now as one wren `map`
        job (one call per `chunksize` items); yield the results in order. `TimeoutError`
        if one is not there `timeout` seconds after this call; the calls not yet read are
        cancelled when the iterator closes."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        end = None if timeout is None else time.monotonic() + timeout
        if chunksize > 1:
            batch, futures = self._chunked(fn, iterables, chunksize)
        else:
            items = list(zip(*iterables))
            futures = [Future() for _ in items]
            if items and len(items[0]) == 1 and all(_plain(item[0]) for item in items):
                batch = Batch(self._wrap(ValueCall, fn), [(f, item[0]) for f, item in
                                                          zip(futures, items)])
            else:
                batch = Batch(self._wrap(ArgsCall, fn), [(f, (item, {})) for f, item in
                                                         zip(futures, items)])
        with self._lock:
            self._check_open()
            if futures:
                self._bridge.put(batch)
        results = _results(futures, end)
        return _flattened(results) if chunksize > 1 else results

    def _chunked(self, fn: Callable[..., Any], iterables: tuple[Iterable[Any], ...],
                 chunksize: int) -> tuple[Batch, list[Future]]:
        """One call per `chunksize` items: slices of the values of a single iterable (of a
        range, ranges), else of the argument tuples."""
        chunks: list[Any]
        if len(iterables) == 1:
            values = iterables[0]
            values = values if isinstance(values, (list, range)) else list(values)
            chunks = [values[i:i + chunksize] for i in range(0, len(values), chunksize)]
            kind: type[_Call] = ValuesCall
        else:
            items = list(zip(*iterables))
            chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
            kind = ChunkCall
        futures = [Future() for _ in chunks]
        return Batch(self._wrap(kind, fn), [(f, (chunk,)) for f, chunk in
                                            zip(futures, chunks)]), futures

    def _wrap(self, kind: type[_Call], fn: Callable[..., Any]) -> _Call:
        return kind(fn, self._initializer, self._initargs, self._token)

    # Shutting down ------------------------------------------------------------------------
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; cancel the queued ones if `cancel_futures`; with `wait`, return once
        every call sent finished (the wren executor made here is closed then)."""
        with self._lock:
            self._shut = True
        self._bridge.close(wait, cancel_futures)

    def _mark_broken(self, cause: BaseException) -> None:
        with self._lock:
            if self._broken is None:
                self._broken = cause

    def _release(self) -> None:
        """Both bridge threads are done: close the wren executor if it is ours."""
        _live.discard(self)
        if self._owns:
            self._wren.close()


def _results(futures: list[Future], end: float | None) -> Iterator[Any]:
    """The values of `futures` in order (a generator, so `map` itself submits eagerly)."""
    futures.reverse()
    try:
        while futures:
            future = futures.pop()
            try:
                value = future.result(None if end is None else end - time.monotonic())
            finally:
                future.cancel()  # a no-op once done; stops waiting for it after a timeout
            yield value
    finally:
        for future in futures:
            future.cancel()


def _flattened(chunks: Iterator[list[Any]]) -> Iterator[Any]:
    for chunk in chunks:
        yield from chunk


class LocalhostExecutor(FunctionExecutor):
    """`FunctionExecutor` on the localhost backend (the default)."""

    _backend = "localhost"


class ProcessPoolExecutor(FunctionExecutor):
    """`concurrent.futures.ProcessPoolExecutor`'s signature over wren (default: localhost).
    `mp_context` and `max_tasks_per_child` are accepted and have no effect."""

    def __init__(self, max_workers: int | None = None, mp_context: Any = None,
                 initializer: Callable[..., Any] | None = None, initargs: tuple[Any, ...] = (),
                 *, max_tasks_per_child: int | None = None, **kwargs: Any) -> None:
        if max_tasks_per_child is not None and (not isinstance(max_tasks_per_child, int)
                                                or max_tasks_per_child < 1):
            raise ValueError("max_tasks_per_child must be >= 1")
        super().__init__(max_workers, initializer=initializer, initargs=initargs, **kwargs)


class ThreadPoolExecutor(FunctionExecutor):
    """`concurrent.futures.ThreadPoolExecutor`'s signature over wren (default: localhost):
    calls still run on wren workers, not in local threads. `thread_name_prefix` is
    accepted and has no effect."""

    def __init__(self, max_workers: int | None = None, thread_name_prefix: str = "",
                 initializer: Callable[..., Any] | None = None, initargs: tuple[Any, ...] = (),
                 **kwargs: Any) -> None:
        super().__init__(max_workers, initializer=initializer, initargs=initargs, **kwargs)

"""`Pool`: the standard library's process pool, its calls run by wren.

Each `map`/`starmap`/`imap` is ONE wren map job whose calls are the chunks the standard
library would hand to its worker processes (`chunksize`, by default the iterable split in
four chunks per process); `apply`/`apply_async` is one `call_async`. `processes` (default
`cpu_count()`) only sizes those chunks: how many calls run at once is the backend's
business. `initializer(*initargs)` runs once in each worker process before its first call
of this pool; `maxtasksperchild` is accepted and ignored (wren's workers are recycled by
the backend). `terminate()` stops waiting, it cannot stop calls already running.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from wren.multiprocessing import context
from wren.multiprocessing.calls import APPLY, MAP, STARMAP, PoolCall
from wren.multiprocessing.results import AsyncResult, IMapIterator, ResultWatcher

RUN, CLOSE, TERMINATE = "RUN", "CLOSE", "TERMINATE"


def cpu_count() -> int:
    """How many calls the configured backend runs at once (its `max_workers`); on
    localhost, as many as this machine has CPUs unless configured otherwise."""
    return max(1, int(context.executor().compute.max_workers))


class Pool:
    """`multiprocessing.Pool`, running its calls on the configured wren backend."""

    def __init__(self, processes: int | None = None,
                 initializer: Callable[..., Any] | None = None, initargs: Iterable[Any] = (),
                 maxtasksperchild: int | None = None, context: Any = None) -> None:
        if processes is not None and (not isinstance(processes, int) or processes < 1):
            raise ValueError("Number of processes must be at least 1")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if maxtasksperchild is not None and (not isinstance(maxtasksperchild, int)
                                             or maxtasksperchild <= 0):
            raise ValueError("maxtasksperchild must be a positive int or None")
        self._fexec = _shared_executor()
        self._processes = processes or cpu_count()
        self._initializer, self._initargs = initializer, tuple(initargs)
        self._id = uuid.uuid4().hex
        self._state = RUN
        self._outstanding: list[AsyncResult] = []
        self._imap_futures: list[Any] = []
        self._watcher = ResultWatcher(self._fexec)

    def __repr__(self) -> str:
        return f"<wren.multiprocessing.Pool state={self._state} pool_size={self._processes}>"

    def __reduce__(self) -> Any:
        raise NotImplementedError("pool objects cannot be passed between processes or "
                                  "pickled")

    # Submitting ---------------------------------------------------------------------------
    def _check_running(self) -> None:
        if self._state != RUN:
            raise ValueError("Pool not running")

    def _call(self, func: Callable[..., Any], mode: str) -> PoolCall:
        return PoolCall(func, mode, self._id, self._initializer, self._initargs)

    def _chunks(self, iterable: Iterable[Any], chunksize: int | None
                ) -> list[Sequence[Any]]:
        """The chunks of `iterable`: slices of it when it is a list or a range (a range's
        are ranges, which travel as three numbers instead of every item)."""
        items = iterable if isinstance(iterable, (list, range)) else list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(items), self._processes * 4)
            chunksize += bool(extra)
        elif chunksize < 1:
            raise ValueError(f"Chunksize must be 1+, not {chunksize:n}")
        return [items[i:i + chunksize] for i in range(0, len(items), max(chunksize, 1))]

    def _map_futures(self, func: Callable[..., Any], iterable: Iterable[Any],
                     chunksize: int | None, mode: str) -> list[Any]:
        self._check_running()
        chunks = self._chunks(iterable, chunksize)
        if not chunks:
            return []
        return list(self._fexec.map(self._call(func, mode), [(chunk,) for chunk in chunks]))

    def _track(self, result: AsyncResult) -> AsyncResult:
        self._outstanding = [r for r in self._outstanding if not r._event.is_set()]
        self._outstanding.append(result)
        if result.has_callbacks:
            self._watcher.add(result)
        return result

    def apply_async(self, func: Callable[..., Any], args: Iterable[Any] = (),
                    kwds: Mapping[str, Any] | None = None,
                    callback: Callable[[Any], Any] | None = None,
                    error_callback: Callable[[BaseException], Any] | None = None
                    ) -> AsyncResult:
        self._check_running()
        future = self._fexec.call_async(self._call(func, APPLY),
                                        ((tuple(args), dict(kwds or {})),))
        return self._track(AsyncResult(self._fexec, [future], True, callback,
                                       error_callback))

    def apply(self, func: Callable[..., Any], args: Iterable[Any] = (),
              kwds: Mapping[str, Any] | None = None) -> Any:
        return self.apply_async(func, args, kwds).get()

    def map_async(self, func: Callable[..., Any], iterable: Iterable[Any],
                  chunksize: int | None = None, callback: Callable[[Any], Any] | None = None,
                  error_callback: Callable[[BaseException], Any] | None = None
                  ) -> AsyncResult:
        futures = self._map_futures(func, iterable, chunksize, MAP)
        return self._track(AsyncResult(self._fexec, futures, False, callback, error_callback))

    def map(self, func: Callable[..., Any], iterable: Iterable[Any],
            chunksize: int | None = None) -> list[Any]:
        return self.map_async(func, iterable, chunksize).get()

    def starmap_async(self, func: Callable[..., Any], iterable: Iterable[Iterable[Any]],
                      chunksize: int | None = None,
                      callback: Callable[[Any], Any] | None = None,
                      error_callback: Callable[[BaseException], Any] | None = None
                      ) -> AsyncResult:
        futures = self._map_futures(func, iterable, chunksize, STARMAP)
        return self._track(AsyncResult(self._fexec, futures, False, callback, error_callback))

    def starmap(self, func: Callable[..., Any], iterable: Iterable[Iterable[Any]],
                chunksize: int | None = None) -> list[Any]:
        return self.starmap_async(func, iterable, chunksize).get()

    def _imap(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int,
              ordered: bool) -> IMapIterator:
        futures = self._map_futures(func, iterable, chunksize, MAP)
        self._imap_futures.extend(futures)
        return IMapIterator(self._fexec, futures, ordered)

    def imap(self, func: Callable[..., Any], iterable: Iterable[Any],
             chunksize: int = 1) -> IMapIterator:
        return self._imap(func, iterable, chunksize, ordered=True)

    def imap_unordered(self, func: Callable[..., Any], iterable: Iterable[Any],
                       chunksize: int = 1) -> IMapIterator:
        return self._imap(func, iterable, chunksize, ordered=False)

    # Ending -------------------------------------------------------------------------------
    def close(self) -> None:
        """Accept no more work; `join()` then waits for what was submitted."""
        if self._state == RUN:
            self._state = CLOSE

    def terminate(self) -> None:
        """Accept no more work and stop waiting for results (running calls are not
        stopped: a remote call cannot be killed from here)."""
        self._state = TERMINATE
        self._watcher.stop()

    def join(self) -> None:
        """Wait for every submitted call (and its callbacks) after `close()`."""
        if self._state == RUN:
            raise ValueError("Pool is still running")
        if self._state == CLOSE:
            for result in self._outstanding:
                result.wait()
            if self._imap_futures:
                self._fexec.wait(self._imap_futures, throw_except=False)
            self._watcher.join()
        self._watcher.stop()

    def __enter__(self) -> Pool:
        self._check_running()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.terminate()


def _shared_executor() -> Any:
    return context.executor()

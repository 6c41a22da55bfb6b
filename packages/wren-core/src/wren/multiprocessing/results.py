"""`AsyncResult`, `MapResult` and the `imap` iterators: the standard library's result
objects, each over the `ResponseFuture`s of one wren job.

Only `FunctionExecutor.wait`, `get_result` and `ResponseFuture.result` are used;
`finished()` is the one place that asks whether futures are done.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from multiprocessing import TimeoutError
from typing import TYPE_CHECKING, Any

from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import WaitTimeoutError

if TYPE_CHECKING:
    from wren.client.futures import ResponseFuture
    from wren.executor import FunctionExecutor

logger = logging.getLogger("wren")


def finished(fexec: FunctionExecutor, futures: Sequence[ResponseFuture]) -> bool:
    """True once every one of `futures` finished (never blocks)."""
    if not futures:
        return True
    _, not_done = fexec.wait(list(futures), return_when=ALWAYS, throw_except=False)
    return not not_done


class AsyncResult:
    """`multiprocessing.pool.AsyncResult`: `get(timeout)`, `wait(timeout)`, `ready()`,
    `successful()`. Callbacks run once, in the pool's result thread, when it settles."""

    def __init__(self, fexec: FunctionExecutor, futures: Sequence[ResponseFuture],
                 single: bool, callback: Callable[[Any], Any] | None = None,
                 error_callback: Callable[[BaseException], Any] | None = None) -> None:
        self._fexec, self._futures, self._single = fexec, list(futures), single
        self._callback, self._error_callback = callback, error_callback
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._value: Any = None
        self._error: BaseException | None = None
        if not self._futures:
            self._settle()

    @property
    def futures(self) -> list[ResponseFuture]:
        return list(self._futures)

    @property
    def has_callbacks(self) -> bool:
        return self._callback is not None or self._error_callback is not None

    def _collect(self) -> Any:
        if self._single:
            return self._futures[0].result()
        values = self._fexec.get_result(self._futures)
        return list(itertools.chain.from_iterable(values))

    def _settle(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            try:
                self._value = self._collect() if self._futures else []
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a remote failure is this result's data
                self._error = exc
            self._event.set()
        try:
            if self._error is None and self._callback is not None:
                self._callback(self._value)
            elif self._error is not None and self._error_callback is not None:
                self._error_callback(self._error)
        except Exception:
            logger.exception("a multiprocessing callback raised")

    def ready(self) -> bool:
        if not self._event.is_set() and finished(self._fexec, self._futures):
            self._settle()
        return self._event.is_set()

    def successful(self) -> bool:
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._error is None

    def wait(self, timeout: float | None = None) -> None:
        if self._event.is_set():
            return
        _, not_done = self._fexec.wait(self._futures, return_when=ALL_COMPLETED,
                                       throw_except=False, timeout=timeout)
        if not not_done:
            self._settle()

    def get(self, timeout: float | None = None) -> Any:
        self.wait(timeout)
        if not self._event.is_set():
            raise TimeoutError
        if self._error is not None:
            raise self._error
        return self._value


#: The standard library's name for the result of `map_async`.
MapResult = AsyncResult


class IMapIterator:
    """What `imap` (in order) and `imap_unordered` (as they finish) return: iterate, or
    `next(timeout)`. A failed chunk raises its exception at its place, once."""

    def __init__(self, fexec: FunctionExecutor, futures: Sequence[ResponseFuture],
                 ordered: bool) -> None:
        self._fexec, self._pending, self._ordered = fexec, list(futures), ordered
        self._buffer: collections.deque[tuple[bool, Any]] = collections.deque()
        self._lock = threading.Lock()

    def __iter__(self) -> IMapIterator:
        return self

    def _take(self, future: ResponseFuture) -> None:
        try:
            self._buffer.extend((True, value) for value in future.result())
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            self._buffer.append((False, exc))

    def _fill(self, timeout: float | None) -> None:
        if self._ordered:
            try:
                self._pending[0].result(throw_except=False, timeout=timeout)
            except WaitTimeoutError:
                raise TimeoutError from None
            self._take(self._pending.pop(0))
            return
        done, not_done = self._fexec.wait(self._pending, return_when=ANY_COMPLETED,
                                          throw_except=False, timeout=timeout)
        if not done:
            raise TimeoutError
        self._pending = list(not_done)
        for future in done:
            self._take(future)

    def next(self, timeout: float | None = None) -> Any:
        with self._lock:
            while not self._buffer:
                if not self._pending:
                    raise StopIteration
                self._fill(timeout)
            ok, value = self._buffer.popleft()
        if not ok:
            raise value
        return value

    __next__ = next


class ResultWatcher:
    """The pool's result thread: settles results that have callbacks as soon as their
    calls finish, whether or not anyone calls `get`."""

    def __init__(self, fexec: FunctionExecutor) -> None:
        self._fexec = fexec
        self._results: list[AsyncResult] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, result: AsyncResult) -> None:
        with self._cond:
            self._results.append(result)
            if self._thread is None:
                thread = threading.Thread(target=self._run, daemon=True,
                                          name="wren-multiprocessing-results")
                thread.start()
                self._thread = thread  # published once started: stop() joins it
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._results and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                results = list(self._results)
            pending = [f for r in results for f in r.futures]
            try:  # wait for one more call to finish (not for those already finished)
                _, not_done = self._fexec.wait(pending, return_when=ALWAYS,
                                               throw_except=False)
                if not_done:
                    self._fexec.wait(not_done, return_when=ANY_COMPLETED,
                                     throw_except=False, timeout=0.5)
            except Exception:
                logger.exception("waiting for pool results failed")
                return
            settled = [r for r in results if r.ready()]
            with self._cond:
                self._results = [r for r in self._results if r not in settled]
                self._cond.notify_all()

    def join(self) -> None:
        """Wait until every watched result has settled (and its callback ran)."""
        with self._cond:
            while self._results and not self._stopped:
                self._cond.wait(0.5)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

"""`Bridge`: hands queued calls to one `wren.FunctionExecutor` and settles their futures.

Two daemon threads per executor, none per call. The dispatcher drains the queue: calls still
pending are marked running (a cancelled one is skipped), consecutive `submit`s of the same
function go out as one `map` job (a lone one through `call_async`), and each `map` of the
drop-in executor is one `map` job in `chunksize` groups. The completer waits on the wren
futures in flight with `return_when=ANY_COMPLETED` — woken by the executor's monitor — and
settles the finished ones in batches: values through one `get_result`, failures with the
exception the call raised. If the wren executor stops answering, every future still
outstanding fails with `BrokenExecutor`.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Future
from typing import TYPE_CHECKING, Any

from wren._constants import ANY_COMPLETED
from wren.retries import call_failed

if TYPE_CHECKING:
    from wren.client.futures import ResponseFuture
    from wren.concurrent.futures._calls import _Call
    from wren.executor import FunctionExecutor

logger = logging.getLogger("wren")

#: Longest the completer waits before looking at futures dispatched meanwhile.
TICK = 0.05


class Batch:
    """Calls of one function to dispatch together: `(future, payload)` pairs."""

    __slots__ = ("call", "chunksize", "items", "merge")

    def __init__(self, call: _Call, items: list[tuple[Future[Any], Any]],
                 chunksize: int | None = None, merge: bool = False) -> None:
        self.call, self.items, self.chunksize, self.merge = call, items, chunksize, merge

    def joins(self, other: Batch) -> bool:
        return self.merge and other.merge and self.call.fn is other.call.fn \
            and type(self.call) is type(other.call)


def _merged(batches: Sequence[Batch]) -> list[Batch]:
    out: list[Batch] = []
    for batch in batches:
        if out and out[-1].joins(batch):
            out[-1] = Batch(out[-1].call, out[-1].items + batch.items, merge=True)
        else:
            out.append(batch)
    return out


class Bridge:
    """The queue and the two threads between drop-in futures and a wren executor."""

    def __init__(self, fexec: FunctionExecutor, job_options: dict[str, Any],
                 on_failure: Callable[[BaseException], None],
                 on_finish: Callable[[], None]) -> None:
        self._fexec, self._options = fexec, job_options
        self._on_failure, self._on_finish = on_failure, on_finish
        self._cv = threading.Condition()
        self._queue: collections.deque[Batch] = collections.deque()
        self._pending: dict[ResponseFuture, Future[Any]] = {}
        self._closing = self._dispatched_all = False
        self._broken: BaseException | None = None
        self._dispatcher = threading.Thread(target=self._dispatch_loop, daemon=True,
                                            name="wren-futures-dispatch")
        self._completer = threading.Thread(target=self._complete_loop, daemon=True,
                                           name="wren-futures-complete")
        self._dispatcher.start()
        self._completer.start()

    # Called by the executor ---------------------------------------------------------------
    def put(self, batch: Batch) -> None:
        with self._cv:
            self._queue.append(batch)
            self._cv.notify_all()

    def close(self, wait: bool, cancel_queued: bool) -> None:
        """No more batches; cancel the queued calls if asked; wait for the rest if asked."""
        with self._cv:
            self._closing = True
            if cancel_queued:
                for batch in self._queue:
                    for future, _ in batch.items:
                        future.cancel()
            self._cv.notify_all()
        if wait:
            for thread in (self._dispatcher, self._completer):
                if thread is not threading.current_thread():
                    thread.join()

    # Dispatching --------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closing:
                    self._cv.wait()
                batches = list(self._queue)
                self._queue.clear()
                if not batches:
                    self._dispatched_all = True
                    self._cv.notify_all()
                    return
            for batch in _merged(batches):
                self._dispatch(batch)

    def _dispatch(self, batch: Batch) -> None:
        live = [(f, payload) for f, payload in batch.items if f.set_running_or_notify_cancel()]
        if not live:
            return
        if self._broken is not None:
            for future, _ in live:
                future.set_exception(BrokenExecutor(str(self._broken)))
            return
        try:
            if len(live) == 1 and batch.merge:
                wren_futures = [self._fexec.call_async(batch.call, live[0][1], **self._options)]
            else:
                wren_futures = list(self._fexec.map(batch.call, [p for _, p in live],
                                                    chunksize=batch.chunksize,
                                                    **self._options))
        except Exception as exc:  # e.g. an argument that cannot be pickled: those calls fail
            for future, _ in live:
                future.set_exception(exc)
            return
        with self._cv:
            broken = self._broken
            if broken is None:
                for wren_future, (future, _) in zip(wren_futures, live):
                    future.response_future = wren_future  # type: ignore[attr-defined]
                    self._pending[wren_future] = future
                self._cv.notify_all()
        if broken is not None:  # the completer is gone: nothing would settle them
            for future, _ in live:
                future.set_exception(broken)

    # Completing ---------------------------------------------------------------------------
    def _complete_loop(self) -> None:
        try:
            while True:
                with self._cv:
                    while not self._pending and not (self._closing and self._dispatched_all):
                        self._cv.wait()
                    if not self._pending:
                        return
                    waiting = list(self._pending)
                try:
                    done, _ = self._fexec.wait(waiting, throw_except=False,
                                               return_when=ANY_COMPLETED, timeout=TICK)
                except Exception as exc:
                    self._break(exc)
                    return
                if done:
                    self._settle(done)
        finally:
            self._on_finish()

    def _settle(self, done: Sequence[ResponseFuture]) -> None:
        with self._cv:
            pairs = [(wf, self._pending.pop(wf)) for wf in done if wf in self._pending]
        succeeded = [(wf, f) for wf, f in pairs if not call_failed(wf)]
        failed = [(wf, f) for wf, f in pairs if call_failed(wf)]
        values: Any = None
        if succeeded:
            try:
                values = self._fexec.get_result([wf for wf, _ in succeeded], throw_except=False)
            except Exception:  # e.g. a result that cannot be loaded: settle one by one below
                values = None
        if isinstance(values, list) and len(values) == len(succeeded):
            for (_, future), value in zip(succeeded, values):
                future.set_result(value)
        else:
            failed = succeeded + failed
        if failed:
            try:  # download the exceptions together, and mark these calls read
                self._fexec.get_result([wf for wf, _ in failed], throw_except=False)
            except Exception:
                pass
        for wren_future, future in failed:
            try:
                value = wren_future.result(throw_except=True)
            except BaseException as exc:
                future.set_exception(exc)
                if isinstance(exc, BrokenExecutor):
                    self._on_failure(exc)
            else:
                future.set_result(value)

    def _break(self, cause: BaseException) -> None:
        """The wren executor cannot settle calls any more: fail everything outstanding."""
        logger.warning("the wren executor behind a concurrent.futures executor failed: %s",
                       cause)
        error = BrokenExecutor(f"the wren executor stopped answering: {cause}")
        error.__cause__ = cause
        with self._cv:
            self._broken = error
            futures = list(self._pending.values())
            self._pending.clear()
        for future in futures:
            future.set_exception(error)
        self._on_failure(error)

"""`run_task`: the code every worker runs, on every platform.

It loads the task's function (cached per process by content hash), reads the calls'
arguments (inline, or one ranged read of the job's data object), runs each call under its
time limit, and writes statuses and results in batches: per flush, one status object that
also carries the batch's results when they are small (else a result object beside it), at
the end of the task and while it runs: after a call, once the calls
not yet flushed are older than `flush_interval` seconds, or sooner (`EAGER_FLUSH_SECONDS`)
when a flush is cheap next to them (`FLUSH_COST_FACTOR`), so a call that takes a while is
seen done soon after it ends and a crash loses little, while a run of short calls (or slow
storage) still shares one document; and, from the watchdog's thread, while a call runs past
`EAGER_FLUSH_SECONDS` once the calls before it are due, so quick calls are never held back
by a slow one after them in the same task (`_Batch.report_finished`).
What the calls print is captured per call (`wren.worker.output`) and stored with each flush;
a task that asks for it also pushes its statuses to the client's monitor (`wren.worker.push`).
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableSequence
from typing import Any

from wren import context, plugins
from wren.__about__ import __version__
from wren._errors import FunctionTimeoutError, TamperedDataError
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.binding import CallMode
from wren.protocol.fields import ChainedStarts, EndRuns
from wren.protocol.signing import check_digest, open_sealed, seal
from wren.protocol.status import StatusDocument, error_info
from wren.protocol.task import Task
from wren.serialize.function_blob import blob_parts
from wren.serialize.out_of_band import offloading, shared_put
from wren.serialize.sources import ShippedSources
from wren.worker import module_installer
from wren.worker.failures import describe
from wren.worker.output import OUTSIDE_CALLS, CallOutput
from wren.worker.pool.slots import group_mark
from wren.worker.push import with_monitor_push
from wren.worker.sources import register_lines, restore_sources
from wren.worker.timeouts import CallWatchdog

_FUNCTION_CACHE_SIZE = 32
_functions: OrderedDict[str, tuple[Any, ShippedSources]] = OrderedDict()
_watchdog: CallWatchdog | None = None
_HOST = os.uname().nodename if hasattr(os, "uname") else "localhost"
_PYTHON = ".".join(map(str, sys.version_info[:3]))
_task_numbers = itertools.count()

#: Finished calls wait at most about this long for their document when flushing is cheap.
EAGER_FLUSH_SECONDS = 0.05
#: An early flush waits until the unflushed calls took this many times the last flush.
FLUSH_COST_FACTOR = 10.0
#: Calls that take less than this each are timed a group at a time (see `_run_calls`).
GROUP_BELOW = 5e-6
#: Calls timed one at a time before the loop looks whether they are short.
SINGLES = 16
#: Calls per group of short calls: the loop reads the clock once per group, and looks
#: again after each whether its calls are short.
GROUP = 64

#: Where the call loop writes the index of each call before it starts: `table[row]`.
CallMark = tuple[MutableSequence[int], int]
#: What a mark says between tasks.
NO_CALL = -1
#: Receives each status document as written: decoded, and sealed as stored.
Pusher = Callable[[StatusDocument, bytes], None]


def _get_watchdog() -> CallWatchdog:
    """The process's watchdog on the main thread; on another thread one that never signals
    (the main thread's, shared, would set a signal handler from this thread and fail)."""
    global _watchdog
    if threading.current_thread() is not threading.main_thread():
        return CallWatchdog()
    if _watchdog is None or not _watchdog.usable:
        _watchdog = CallWatchdog()
    return _watchdog


def _load_function(task: Task, storage: StorageBackend, serializer: Serializer) -> Any:
    found = _functions.get(task.func_key)
    if found is not None:
        _functions.move_to_end(task.func_key)
        register_lines(found[1])
        return found[0]
    blob = storage.get_object(task.bucket, task.func_key)
    digest = keys.func_digest(task.func_key)
    check_digest(task.func_key, blob, digest)  # content-addressed: the task names the hash
    pickled, sources, archive = blob_parts(blob)
    module_dir = module_installer.activate(archive, digest)
    func = serializer.loads(pickled)
    shipped = ShippedSources.from_bytes(sources)
    restore_sources(func, shipped, module_dir)  # tracebacks show the user's files and lines
    _functions[task.func_key] = (func, shipped)
    while len(_functions) > _FUNCTION_CACHE_SIZE:
        _functions.popitem(last=False)
    return func


def _load_arguments(task: Task, storage: StorageBackend, serializer: Serializer,
                    key: bytes) -> list[Any]:
    """The payloads of the task's calls, in `call_indices` order. Inline arguments came in
    the invocation itself (with the key); arguments read from storage are checked with the
    key before anything is unpickled."""
    start, end = task.data_range
    if task.inline_data is not None:
        raw: bytes | memoryview = memoryview(task.inline_data)[start:end]
    else:
        assert task.data_key is not None
        sealed = storage.get_object(task.bucket, task.data_key, (start, end))
        # name the object the user can find, not the seal's context
        raw = open_sealed(key, task.args_context(), sealed, task.data_key)
    payloads = serializer.loads(raw)
    positions = task.positions
    if isinstance(positions, range) and positions.step == 1 and positions.start >= 0:
        if positions.stop > len(payloads):  # (a slice never silently runs fewer calls)
            raise IndexError(f"the task names calls {positions.start}-{positions.stop - 1} of "
                             f"a chunk of {len(payloads)} arguments")
        payloads = payloads[positions.start:positions.stop]  # a slice a pool cut
    elif positions is not None:
        payloads = [payloads[p] for p in positions]
    return payloads


class _Plain:
    """The invoker of a call that is just `func(payload)` (the loop calls `func` itself)."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __call__(self, payload: Any, index: int) -> Any:
        return self.func(payload)


def _invoker(func: Any, task: Task, storage: StorageBackend) -> Callable[[Any, int], Any]:
    """A function `(payload, index) -> value` that makes the call as the client bound it."""
    binding = task.binding
    extra: dict[str, Any] = {}
    if "storage" in binding.inject:
        extra["storage"] = _storage_client(storage)
    with_id = binding.inject_id
    if binding.mode is CallMode.VALUE:
        if with_id or extra:
            return lambda payload, index: func(payload, id=index, **extra) if with_id \
                else func(payload, **extra)
        return _Plain(func)
    if binding.mode is CallMode.NAMED_VALUE:
        name = binding.param
        assert name is not None
        if with_id:
            return lambda payload, index: func(**{name: payload, "id": index}, **extra)
        return lambda payload, index: func(**{name: payload}, **extra)

    def general(payload: Any, index: int) -> Any:
        args, kwargs = payload if type(payload) is tuple else ((), payload)
        return func(*args, **kwargs, **extra) if extra else func(*args, **kwargs)

    if "obj" in binding.inject:  # data processing: obj is a chunk to open
        from wren.dataproc.worker import with_chunks

        return with_chunks(general, storage)
    return general


def _with_results(invoke: Callable[[Any, int], Any], task: Task, payloads: list[Any],
                  storage: StorageBackend, serializer: Serializer, key: bytes
                  ) -> Callable[[Any, int], Any]:
    """`invoke`, with `ResultRef` arguments (futures passed as iterdata) read from storage;
    `invoke` itself when no payload holds one."""
    from wren.worker.upstream import ResultReader, mentions_results, with_results

    if task.reads_results is False or not mentions_results(payloads, task.binding.mode):
        return invoke  # (the client says when none does: no look at thousands of payloads)
    reader = ResultReader(storage, task.bucket, serializer, key)
    return with_results(invoke, task.binding.mode, reader)


def _with_env(invoke: Callable[[Any, int], Any], env: Mapping[str, str]
              ) -> Callable[[Any, int], Any]:
    """`invoke` with the task's `extra_env` set around each call (and restored after);
    `invoke` itself when there is none."""
    if not env:
        return invoke

    def call(payload: Any, index: int) -> Any:
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            return invoke(payload, index)
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old

    return call


def _storage_client(storage: StorageBackend) -> Any:
    """What a `storage` parameter receives: a `wren.Storage` client over the worker's storage."""
    from wren.storage_api import Storage

    return Storage.from_backend(storage)


class _Batch:
    """Outcomes and results not yet written to storage."""

    def __init__(self, task: Task, storage: StorageBackend, serializer: Serializer,
                 push: Pusher | None, worker_start: float, key: bytes) -> None:
        self.task, self.storage, self.serializer, self.push = task, storage, serializer, push
        self.key = key
        self.worker = {"start": worker_start, "host": _HOST, "pid": os.getpid(),
                       "python": _PYTHON, "wren": __version__,
                       "attempt": task.attempt}
        self.part = 0
        #: The group of short calls running (its arguments), and where in the part's
        #: values it starts; `running_since` shortens it to end after the running call.
        self.group: tuple[list[Any], int] = ([], 0)
        self._seen: tuple[Any, int, float] = (None, -1, 0.0)
        #: How long the last flush took (the storage's write latency, as seen here).
        self.flush_seconds = 0.0
        self.output: CallOutput | None = None
        #: Seconds all flushes took.
        self.flushing = 0.0
        #: From when (`time.time()`) the calls not yet written are due: set by the loop;
        #: the watchdog's thread writes them meanwhile once a call runs past it
        #: (`report_finished`). Never, until the loop says.
        self.due_at = math.inf
        #: Flushes (the loop's and `report_finished`) take turns.
        self._flushing = threading.Lock()
        #: Calls of the task in the parts before this one.
        self.earlier = 0
        self._new_part()

    def running_index(self) -> int:
        """The index of the call running now (`OUTSIDE_CALLS` between calls): the loop
        appends a call's index before it runs and its value after."""
        done = len(self.values)
        indices = self.document.indices
        return indices[done] if len(indices) > done else OUTSIDE_CALLS

    def running_since(self) -> float | None:
        """When the running call started (None between calls), as the watchdog asks every
        `resolution` seconds: the loop's last reading of the clock when every call before
        it was timed (it started then); inside a group of short calls, when this was first
        asked during the call (never before its start: a call is never cut short). Either
        way a group ends after the running call (its list of arguments is shortened: the
        loop puts the rest back), so the loop reads the clock after it, and a call that
        turns out slow puts the loop back to timing each call."""
        document = self.document
        done = len(self.values)
        if len(document.indices) == done:
            return None
        group, first = self.group
        if 0 <= done - first < len(group):
            del group[done - first + 1:]
        ends = document.func_end
        assert isinstance(ends, EndRuns)
        if len(ends) == done:
            return ends.last(self.part_start)
        seen = self._seen
        if seen[0] is not document or seen[1] != done:
            seen = self._seen = (document, done, time.time())
        return seen[2]

    def fail_running(self, exc: BaseException, ended: float) -> float:
        """File `exc` as the outcome of the running call; `ended` (returned) is its end.
        An exception from outside any call (the loop's own) is raised again. Short calls
        before it whose group the loop had not timed yet end at the loop's last reading."""
        document = self.document
        position = len(self.values)
        if len(document.indices) == position:
            raise exc
        ends = document.writable_times()[1]
        assert isinstance(ends, EndRuns)
        # without the running call's own end, if it came before the raise, and with the
        # short calls before it that the loop had not timed yet (ended at its last reading)
        ends.fit(position, ends.last(self.part_start))
        ends.append(ended)
        kind = "timeout" if isinstance(exc, FunctionTimeoutError) else "exception"
        document.errors[position] = describe(exc, kind)
        self.values.append(exc)
        return ended

    def _new_part(self) -> None:
        task = self.task
        # The time columns are arrays: appended as fast as lists, and already in the packed
        # form they travel in (`wren.protocol.fields.encode_times`); the ends as runs.
        self.document = StatusDocument(task.job_key, task.task_id, self.part, None, self.worker,
                                       func_start=array("d"), func_end=EndRuns())
        self.values: list[Any] = []
        #: When the part's first call started (the loop notes only ends, see `_run_calls`).
        self.part_start = time.time()
        #: The calls (and end runs) of the part written already, while a call ran after them.
        self.reported = self.reported_runs = 0

    def _fill_starts(self) -> None:
        """Give the calls the loop ran their starts: each one's is the end of the call before
        it in this part, the first one's `part_start` (the loop reads the clock once per
        call; calls filed by `add_error` came with their own)."""
        document = self.document
        starts, ends = document.writable_times()
        if not starts and ends:  # it travels as the first start (see `ChainedStarts`)
            document.func_start = ChainedStarts(self.part_start, ends)

    def add_error(self, index: int, func_start: float, func_end: float,
                  error: dict[str, str], exc: BaseException | None) -> None:
        self.document.add(index, func_start, func_end, error)
        self.values.append(exc)
        self.part_start = func_end

    def _serialize_values(self, document: StatusDocument, values: list[Any]) -> bytes:
        """`values`, the values of `document`'s calls, as one pickled list. A failed call's
        exception is pickled on its own first, so an exception class the client cannot
        import spoils only that call; values that cannot be pickled become errors."""
        serializer = self.serializer
        for position in document.errors:
            values[position] = _pickled_exception(values[position], serializer)
        try:
            return serializer.dumps(values)
        except Exception:
            pass
        for position, value in enumerate(values):
            try:
                serializer.dumps(value)
            except Exception as exc:
                values[position] = None
                if document.ok(position):
                    message = f"the result ({type(value).__name__}) cannot be serialized: {exc}"
                    document.errors[position] = error_info("SerializationError", message)
        return serializer.dumps(values)

    def flush(self) -> None:
        """Write the part's calls not written yet, and start a new part."""
        with self._flushing:
            if len(self.document.indices) > self.reported:
                began = time.monotonic()
                ends = self.document.func_end
                assert isinstance(ends, EndRuns)  # (a worker's part, see `_new_part`)
                self._write(len(self.values), len(ends.ends))
                self.part += 1
                self.flush_seconds = time.monotonic() - began
                self.flushing += self.flush_seconds
            self.earlier += len(self.document.indices)
            self._new_part()

    def started(self) -> int:
        """How many of the task's calls the loop has started (or taken to start next, when
        none runs); not the rest of a group, which a question of the watchdog ends."""
        with self._flushing:
            return self.earlier + min(len(self.document.indices), len(self.values) + 1)

    def report_finished(self, started: float | None) -> None:
        """Write the calls that finished while a call that `started` then still runs, once
        they are due (`due_at`) and it ran `EAGER_FLUSH_SECONDS`: asked by the watchdog's
        thread every `resolution` seconds, so a task's quick calls are not held back by a
        slow one after them (a `concurrent.futures` map with a timeout, `ANY_COMPLETED`).
        Only calls the loop has timed are written (the rest of a group of short calls waits
        for the running call); the loop appends to the columns meanwhile, so this reads a
        prefix of them and leaves them as they are."""
        now = time.time()
        if started is None or now < self.due_at or now - started < EAGER_FLUSH_SECONDS:
            return
        with self._flushing:
            done = len(self.values)
            if len(self.document.indices) == done:
                return  # between calls: the loop flushes itself
            calls, runs = self._timed_prefix(done)
            if calls > self.reported:
                self._write(calls, runs)
                self.reported, self.reported_runs = calls, runs
                self.part += 1

    def _timed_prefix(self, done: int) -> tuple[int, int]:
        """How many of the part's calls, and of its end runs, the loop has timed (of the
        first `done` calls, whose values are in): whole runs only."""
        ends = self.document.func_end
        assert isinstance(ends, EndRuns)
        counts = ends.counts[self.reported_runs:len(ends.ends)]  # (a copy: runs may grow)
        calls, runs = self.reported, self.reported_runs
        for count in counts:
            if calls + count > done:
                break
            calls += count
            runs += 1
        return calls, runs

    def _piece(self, calls: int, runs: int) -> tuple[StatusDocument, list[Any]]:
        """The document and values of the part's calls from `reported` to `calls` (ending
        its end run `runs`): the part itself when it holds all of them."""
        document, first = self.document, self.reported
        if first == 0 and calls == len(document.indices):
            self._fill_starts()
            return document, self.values
        ends = document.func_end
        assert isinstance(ends, EndRuns) and not document.func_start
        piece_ends = EndRuns()
        piece_ends.ends = ends.ends[self.reported_runs:runs]
        piece_ends.counts = ends.counts[self.reported_runs:runs]
        after = ends.ends[self.reported_runs - 1] if self.reported_runs else self.part_start
        piece = StatusDocument(document.job_key, document.task_id, self.part, None, self.worker,
                               func_start=ChainedStarts(after, piece_ends), func_end=piece_ends)
        piece.indices = document.indices[first:calls]
        piece.errors = {position - first: error for position, error in
                        document.errors.copy().items() if first <= position < calls}
        return piece, self.values[first:calls]

    def _write(self, calls: int, runs: int) -> None:
        """Store (and push) the status, results and output of the part's calls from
        `reported` to `calls` as the status object of part `part`."""
        document, values = self._piece(calls, runs)
        task = self.task
        indices = document.indices
        if isinstance(task.call_indices, range) and task.call_indices.step == 1:
            # the calls ran in order, so a part of a contiguous task is contiguous too
            document.indices = range(indices[0], indices[-1] + 1)
        document.result_key = keys.result_key(task.job_key, task.task_id, self.part)
        with offloading(shared_put(self.storage, task.bucket, task.job_key)) as offloaded:
            blob = seal(self.key, document.result_key, self._serialize_values(document, values))
        if not document.embed_result(blob):  # a small one travels in the status object
            self.storage.put_object(task.bucket, document.result_key, blob)
        document.worker = {**self.worker, "end": time.time(),
                           "result_bytes": len(blob) + offloaded.bytes}
        if self.output is not None and self.output.pending:
            # (an early part takes only its calls' output: the running call may still print)
            self.output.store(self.storage, task, self.part, document,
                              None if document is self.document else set(document.indices))
        encoded = document.seal(self.key)
        self.storage.put_object(task.bucket, keys.status_key(task.job_key, task.task_id,
                                                             self.part), encoded)
        if self.push is not None:
            self.push(document, encoded)


def _pickled_exception(exc: Any, serializer: Serializer) -> bytes | None:
    """`exc` pickled on its own (None when it does not pickle: its text still travels)."""
    if exc is None:
        return None
    try:
        return serializer.dumps(exc)
    except Exception:
        return None


def run_task(task: Task, storage: StorageBackend, *, key: bytes, push: Pusher | None = None,
             mark: CallMark | None = None, flush_interval: float | None = None,
             asked_back: Callable[[], bool] | None = None, group_calls: bool = True) -> float:
    """Run every call of `task`, writing statuses and results to `storage`; return the
    seconds its calls ran (what the pool sizes slices of its function from).

    `key` is the executor's key that came with the invocation: the arguments are checked
    with it, and results and statuses sealed with it. `push` receives each status document
    as it is written. `mark`, `(table, row)`, gets the index of each call just before it
    starts (`table[row] = index`; a group mark before a group of short calls, unless
    `group_calls` is False) and `NO_CALL` when the task is done: a pool supervises its
    workers from another process through it (`wren.worker.pool.slots`).
    `flush_interval` overrides the task's (`math.inf`: one flush, at the end).
    `asked_back`, asked while a call runs (with the watchdog's look, every 50 ms), says when
    the task's calls not started yet are wanted back: the task then ends after the running
    call (or group of short calls), and its caller runs the calls it did not report
    elsewhere (a pool whose other workers idle while this one holds calls).
    """
    worker_start = time.time()
    context.set_current(storage, task, key)
    try:
        serializer = plugins.serializer_class(task.serializer)()
        batch = _Batch(task, storage, serializer, with_monitor_push(task, storage, push),
                       worker_start, key)
        batch.worker["cold_start"] = next(_task_numbers) == 0
        try:
            func = _load_function(task, storage, serializer)
            payloads = _load_arguments(task, storage, serializer, key)
            invoke = _with_env(_with_results(_invoker(func, task, storage), task, payloads,
                                             storage, serializer, key), task.extra_env)
        except Exception as exc:
            error = describe(exc, "system", skip=0)
            error["message"] = f"the worker could not load the job: {error['message']}"
            # A refused (tampered) object travels as itself, so the user can catch it.
            travels = exc if isinstance(exc, TamperedDataError) else None
            for index in task.call_indices:
                batch.add_error(index, worker_start, time.time(), dict(error), travels)
            batch.flush()
            return 0.0
        batch.worker["args_bytes"] = task.data_range[1] - task.data_range[0]
        with CallOutput() as batch.output:
            return _run_calls(task, batch, invoke, payloads, mark, flush_interval, asked_back,
                              group_calls)
    finally:
        if mark is not None:
            mark[0][mark[1]] = NO_CALL
        context.set_current(None, None)


def _run_calls(task: Task, batch: _Batch, invoke: Callable[[Any, int], Any],
               payloads: list[Any], mark: CallMark | None,
               flush_interval: float | None = None,
               asked_back: Callable[[], bool] | None = None,
               group_calls: bool = True) -> float:
    """Run the calls, flushing as `early_flush_after` says; return the seconds they took
    (with the loop's own small share, and without the flushes).

    A no-op call costs well under a microsecond here, so the loop does the least per call.
    It times the first `SINGLES` calls one at a time: it marks each (`mark`), appends its
    index to the part's columns before the call and its value after, and reads the clock
    after it (a call started when the one before it ended, `_Batch.part_start` for a part's
    first call). The watchdog and the output capture read the running call from those
    columns (`_Batch.running_index`) instead of being told at every call. Calls that prove
    short (`SINGLES` calls, or a group, that took under `GROUP_BELOW` seconds each) then
    run `GROUP` at a time with no step of Python between them: the group's indices go to
    the columns first, one group mark (`wren.worker.pool.slots.group_mark`) to `mark`, and
    `list.extend(map(...))` appends each value as its call returns, so the columns still
    name the running call; the clock is read after the group (the group's calls end
    together then: the first one's span covers the group, the others' none). A group that
    took longer (a call turned slow) puts the loop back to timing each call. Without a
    watchdog (not on the main thread), or with `group_calls` False (a pool that must know
    exactly which call a worker that died was running), each call is timed and marked. The
    `try` is around the loop, not each call (free until something raises): a call that
    raises is filed as failed, the calls of its group after it go back to the list, and the
    loop goes on with the next one. A call that needs no index (the plain `func(item)` of
    most maps, `_Plain`) calls the function itself. The list of payloads is read through a
    live iterator: cut by `asked_back` (after the calls taken), it ends the loop."""
    interval = task.options.flush_interval if flush_interval is None else flush_interval
    direct = invoke.func if isinstance(invoke, _Plain) else None
    clock = time.time
    flush_at = clock() + early_flush_after(interval, 0.0)
    output = batch.output if batch.output is not None else CallOutput()
    output.where = batch.running_index
    call_indices = task.call_indices
    arguments = _arguments_from(payloads, 0)
    take = itertools.islice
    # The part's columns and their appenders (the loop avoids attribute look-ups); bound
    # again after each flush starts a new part.
    indices, values, add_end, add_count = _columns(batch)
    add_index, add_value = indices.append, values.append
    # each call's index goes to the mark (to a throwaway one without: a store is cheaper
    # than a test)
    marks, row = mark if mark is not None else ([NO_CALL], 0)
    batch.due_at = flush_at
    with _get_watchdog() as watchdog:
        watchdog.timeout, watchdog.running_since = task.timeout, batch.running_since
        watchdog.meanwhile = _meanwhile(batch, payloads, asked_back)
        can_group = group_calls and watchdog.usable  # its questions time a slow call
        last = batch.part_start = clock()
        began = time.monotonic()  # (what the pool sizes slices from: the calls, no set-up)
        grouped = False
        more = True
        while more:
            more = False
            try:
                while True:
                    before = len(values)
                    taken = batch.earlier + before  # (the task's calls taken so far)
                    if grouped:  # short calls: no Python between them, one clock reading
                        group = list(take(arguments, GROUP))
                        if not group:
                            break
                        indices.extend(call_indices[taken:taken + len(group)])
                        marks[row] = group_mark(indices[before])
                        batch.group = (group, before)
                        values.extend(map(direct, group) if direct is not None
                                      else map(invoke, group, indices[before:]))
                        add_end(ended := clock())
                        add_count(done := len(values) - before)
                        if before + done < len(indices):  # ended early by the watchdog
                            del indices[before + done:]
                            arguments = _arguments_from(payloads, taken + done)
                    else:
                        for index, payload in zip(call_indices[taken:taken + SINGLES],
                                                  arguments):
                            marks[row] = index
                            add_index(index)
                            value = direct(payload) if direct is not None else \
                                invoke(payload, index)
                            add_end(ended := clock())
                            add_count(1)
                            add_value(value)
                            if ended >= flush_at:
                                break
                        done = len(values) - before
                        if not done:
                            break
                    grouped = can_group and ended - last < done * GROUP_BELOW
                    last = ended
                    if ended >= flush_at:
                        more = True
                        break
            except BaseException as exc:  # the user's exception, SystemExit included
                last = ended = batch.fail_running(exc, clock())
                # the calls of its group after it were not run: back to the list
                del indices[len(values):]
                arguments = _arguments_from(payloads, batch.earlier + len(values))
                grouped = False
                more = True
            if more and ended >= flush_at:
                batch.flush()
                indices, values, add_end, add_count = _columns(batch)
                add_index, add_value = indices.append, values.append
                last = batch.part_start = clock()
                flush_at = batch.part_start + early_flush_after(interval, batch.flush_seconds)
                batch.due_at = flush_at
        spent = time.monotonic() - began - batch.flushing  # the calls, and the loop around
        batch.flush()
    return spent


def _arguments_from(payloads: list[Any], position: int) -> Iterator[Any]:
    """The payloads from `position` on, read live: the iterator ends where the list ends
    when it is next asked, so a cut of the list (`asked_back`) ends the loop."""
    arguments = iter(payloads)
    arguments.__setstate__(position)  # type: ignore[attr-defined]
    return arguments


def _meanwhile(batch: _Batch, payloads: list[Any], asked_back: Callable[[], bool] | None
               ) -> Callable[[float], None]:
    """What the watchdog's thread does while a call runs: give back the calls not started
    when asked (the list the loop iterates is cut after the calls it took, so the loop ends
    after the running one), and write the calls finished before it."""
    if asked_back is None:
        return batch.report_finished

    def meanwhile(started: float) -> None:
        if asked_back():
            del payloads[batch.started():]
        batch.report_finished(started)

    return meanwhile


def _columns(batch: _Batch) -> tuple[list[int], list[Any], Callable[[float], None],
                                     Callable[[int], None]]:
    """The current part's index column and values, and the appenders of its end runs: an
    end, and how many calls ended then (its starts are filled in when it is flushed,
    `_Batch._fill_starts`)."""
    document = batch.document
    ends = document.writable_times()[1]
    assert isinstance(ends, EndRuns)  # (a worker's part, see `_Batch._new_part`)
    indices = document.indices
    assert isinstance(indices, list)  # (likewise)
    return indices, batch.values, ends.ends.append, ends.counts.append


def early_flush_after(interval: float, flush_seconds: float) -> float:
    """How old the unflushed calls may get before a flush after the call that ends then:
    `EAGER_FLUSH_SECONDS`, or `FLUSH_COST_FACTOR` times what the last flush took when that
    is longer (slow storage), never past `interval`. (A call that starts `interval` seconds
    after the last flush is flushed in any case.) An infinite interval means one document
    per task: never early."""
    if math.isinf(interval):
        return math.inf
    return min(interval, max(EAGER_FLUSH_SECONDS, FLUSH_COST_FACTOR * flush_seconds))

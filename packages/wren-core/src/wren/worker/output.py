"""Capture what each call prints, for `future.logs` and `wren logs`.

While a task runs, `sys.stdout` and `sys.stderr` are proxies that file every write under the
index of the call running at that moment, which a write asks the runner for (`where`), so a
call that prints nothing costs nothing. At each flush the calls' output is stored as one JSON
object per part (`wren.logs/<job key>/<task>.<part>.log`), written before the part's status,
which names it (`worker["logs_key"]`) and gives each call's size (`worker_log_bytes`). With
one task running, writes from any thread are its own; with several (a runtime serving tasks
in threads) each thread's writes go to its own task. Output written straight to file
descriptors 1 and 2 (C extensions, child processes) bypasses `sys.stdout` and stays in the
platform's own log.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Container
from typing import TextIO

from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.logs import encode_logs
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task

#: Most characters of output kept per call; the rest is counted, not stored.
DEFAULT_LIMIT = 1 << 20
#: The index writes are filed under when no call is running (between calls of a task).
OUTSIDE_CALLS = -1

_lock = threading.Lock()
_active: dict[int, CallOutput] = {}
_single: CallOutput | None = None
_originals: tuple[TextIO, TextIO] | None = None


def _route() -> CallOutput | None:
    single = _single
    if single is not None:
        return single
    return _active.get(threading.get_ident())


class _BinaryProxy:
    """`sys.stdout.buffer`: bytes written here are decoded and captured like text."""

    def __init__(self, text: _TextProxy) -> None:
        self._text = text

    def write(self, data: bytes) -> int:
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._text.flush()


class _TextProxy(io.TextIOBase):
    """Stands in for `sys.stdout`/`sys.stderr` while tasks run."""

    def __init__(self, original: TextIO) -> None:
        self._original = original

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return "strict"

    @property
    def buffer(self) -> _BinaryProxy:
        return _BinaryProxy(self)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._original.fileno()

    def reconfigure(self, **options: object) -> None:
        """Accepted and ignored (code that tunes its console stream keeps working)."""

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        sink = _route()
        if sink is None:
            return self._original.write(text)
        sink.add(text)
        return len(text)

    def flush(self) -> None:
        if _route() is None:
            self._original.flush()


def _install() -> None:
    global _originals
    if _originals is None:
        _originals = (sys.stdout, sys.stderr)
        sys.stdout = _TextProxy(sys.stdout)
        sys.stderr = _TextProxy(sys.stderr)


def _uninstall() -> None:
    global _originals
    if _originals is not None:
        out, err = _originals
        if isinstance(sys.stdout, _TextProxy):
            sys.stdout = out
        if isinstance(sys.stderr, _TextProxy):
            sys.stderr = err
        _originals = None


def original_stderr() -> TextIO:
    """The worker's own stderr, for wren's messages while a task captures output."""
    return _originals[1] if _originals is not None else sys.stderr


class CallOutput:
    """The output of one task's calls, filed by call index until the next flush."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        #: The running call's index, when nothing tells it (`where` is None).
        self.index = OUTSIDE_CALLS
        #: Tells the running call's index (the runner reads it from its columns).
        self.where: Callable[[], int] | None = None
        self.limit = limit
        self._texts: dict[int, list[str]] = {}
        self._kept: dict[int, int] = {}
        self._dropped: dict[int, int] = {}
        #: A flush can drain from the watchdog's thread while the running call writes.
        self._lock = threading.Lock()

    def __enter__(self) -> CallOutput:
        global _single
        with _lock:
            _active[threading.get_ident()] = self
            _single = self if len(_active) == 1 else None
            _install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _single
        with _lock:
            _active.pop(threading.get_ident(), None)
            _single = next(iter(_active.values())) if len(_active) == 1 else None
            if not _active:
                _uninstall()

    @property
    def pending(self) -> bool:
        return bool(self._texts)

    def add(self, text: str) -> None:
        index = self.index if self.where is None else self.where()
        with self._lock:
            kept = self._kept.get(index, 0)
            room = self.limit - kept
            if len(text) > room:
                self._dropped[index] = self._dropped.get(index, 0) + len(text) - max(room, 0)
                text = text[:max(room, 0)]
            if text:
                self._texts.setdefault(index, []).append(text)
                self._kept[index] = kept + len(text)

    def drain(self, calls: Container[int] | None = None) -> dict[int, str]:
        """Each call's output since the last drain (a truncation note where it overflowed):
        of every call, or of `calls` only (and what was written between calls)."""
        with self._lock:
            if calls is None:
                texts, dropped = self._texts, self._dropped
                self._texts, self._kept, self._dropped = {}, {}, {}
            else:
                taken = [i for i in self._texts.keys() | self._dropped.keys()
                         if i in calls or i == OUTSIDE_CALLS]
                texts = {i: self._texts.pop(i) for i in taken if i in self._texts}
                dropped = {i: self._dropped.pop(i) for i in taken if i in self._dropped}
                for index in taken:
                    self._kept.pop(index, None)
        out = {index: "".join(parts) for index, parts in texts.items()}
        for index, count in dropped.items():
            out[index] = out.get(index, "") + (f"\n[wren: {count} more characters of output "
                                               "were dropped]\n")
        return out

    def store(self, storage: StorageBackend, task: Task, part: int,
              document: StatusDocument, calls: Container[int] | None = None) -> None:
        """Write the pending output (of `calls` only, when given) as the part's log object
        and name it in `document`."""
        logs = self.drain(calls)
        if not logs:
            return
        key = keys.logs_key(task.job_key, task.task_id, part)
        try:
            storage.put_object(task.bucket, key,
                               encode_logs(task.job_key, task.task_id, part, logs))
        except Exception as exc:  # the results matter more than their output
            print(f"wren: could not store the output of {task.job_key} task {task.task_id}: "
                  f"{exc}", file=original_stderr())
            return
        document.worker["logs_key"] = key
        where = {call: position for position, call in enumerate(document.indices)}
        for index, text in logs.items():
            position = where.get(index)
            if position is not None:
                document.extra.setdefault(position, {})["worker_log_bytes"] = len(
                    text.encode("utf-8", "replace"))

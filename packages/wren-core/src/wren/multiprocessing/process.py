"""`Process`: the standard library's process, its `run()` executed as one wren call.

`start()` pickles the process object (target, args, or a subclass's own `run`) into a
`call_async`; `join(timeout)`, `is_alive()` and `exitcode` follow that call: 0 when `run()`
returned, the code of a `SystemExit`, 1 when it raised (its traceback is printed here, as the
standard library's child prints it). `pid` is the worker's process id once it finished.
`terminate()`/`kill()` stop waiting and give the signal's negative exit code; they cannot
stop a call already running remotely.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from wren.multiprocessing import context
from wren.multiprocessing.calls import ProcessCall, format_failure
from wren.multiprocessing.results import finished

_numbers = itertools.count(1)


class Process:
    """`multiprocessing.Process` on wren."""

    def __init__(self, group: None = None, target: Callable[..., Any] | None = None,
                 name: str | None = None, args: Iterable[Any] = (),
                 kwargs: Mapping[str, Any] | None = None, *, daemon: bool | None = None
                 ) -> None:
        if group is not None:
            raise ValueError("group argument must be None for now")
        self._target, self._args, self._kwargs = target, tuple(args), dict(kwargs or {})
        self._name = name or f"Process-{next(_numbers)}"
        self.daemon = bool(daemon)
        self._future: Any = None
        self._fexec: Any = None
        self._exitcode: int | None = None
        self._closed = False

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_future=None, _fexec=None, _exitcode=None)
        return state

    # What runs remotely -------------------------------------------------------------------
    def run(self) -> None:
        """Call `target(*args, **kwargs)`; subclasses override it."""
        if self._target is not None:
            self._target(*self._args, **self._kwargs)

    # Control ------------------------------------------------------------------------------
    def _check_closed(self) -> None:
        if self._closed:
            raise ValueError("process object is closed")

    def start(self) -> None:
        self._check_closed()
        if self._future is not None:
            raise AssertionError("cannot start a process twice")
        self._fexec = context.executor()
        self._future = self._fexec.call_async(ProcessCall(self))

    def join(self, timeout: float | None = None) -> None:
        self._check_closed()
        if self._future is None:
            raise AssertionError("can only join a started process")
        if self._exitcode is None:
            self._fexec.wait([self._future], throw_except=False, timeout=timeout)

    def is_alive(self) -> bool:
        self._check_closed()
        return self._future is not None and self.exitcode is None

    @property
    def exitcode(self) -> int | None:
        if self._exitcode is None and self._future is not None and finished(
                self._fexec, [self._future]):
            exc = self._future.exception()
            if exc is None:
                self._exitcode = int(self._future.result())
            else:
                sys.stderr.write(format_failure(self._name, exc))
                self._exitcode = 1
        return self._exitcode

    def terminate(self) -> None:
        self._stop(signal.SIGTERM)

    def kill(self) -> None:
        self._stop(signal.SIGKILL)

    def _stop(self, sig: int) -> None:
        if self.exitcode is None and self._future is not None:
            self._exitcode = -int(sig)

    def close(self) -> None:
        if self.is_alive():
            raise ValueError("Cannot close a process while it is still running. "
                             "You should first call join() or terminate().")
        self._closed = True

    # Attributes ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def pid(self) -> int | None:
        """The worker's process id, once the call finished (None before)."""
        if self.exitcode is None:
            return None
        stats = self._future.stats if self._future is not None else {}
        pid = stats.get("worker_pid") if isinstance(stats, Mapping) else None
        return int(pid) if pid is not None else None

    ident = pid

    @property
    def authkey(self) -> bytes:
        """This program's key, as the standard library gives its children (wren's calls
        are authenticated by the executor key instead)."""
        return bytes(multiprocessing.current_process().authkey)

    def __repr__(self) -> str:
        code = self.exitcode
        state = "initial" if self._future is None else \
            "started" if code is None else f"stopped exitcode={code}"
        return f"<wren.multiprocessing.Process name={self._name!r} {state}>"

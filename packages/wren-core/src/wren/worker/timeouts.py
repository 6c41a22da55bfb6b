"""Per-call time limits inside a worker process, enforced by a watchdog thread.

The runner marks a call's start by setting `started` (one attribute store, no system call)
and clears it when the call returns. The watchdog thread looks every `resolution` seconds
and, once a call overruns `timeout`, sends `SIGALRM` to the main thread, whose handler
raises `FunctionTimeoutError` inside the call. This needs the task to run on the main
thread; elsewhere (an HTTP runtime serving in threads) the platform's own limit applies.
Code stuck in C that holds the interpreter lock cannot be interrupted this way; adapters
with the `supervises_calls` capability kill such a worker from outside.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

from wren._errors import FunctionTimeoutError


def timeout_message(seconds: float) -> str:
    return f"the call exceeded its {seconds:g} s timeout"


class CallWatchdog:
    """Interrupts the main thread's current call when it overruns its time limit."""

    def __init__(self, resolution: float = 0.05) -> None:
        self.resolution = resolution
        self.started: float | None = None
        self.timeout = 0.0
        self._thread: threading.Thread | None = None
        self._previous: Any = None
        self.usable = (hasattr(signal, "pthread_kill")
                       and threading.current_thread() is threading.main_thread())

    def __enter__(self) -> CallWatchdog:
        if self.usable:
            self._previous = signal.signal(signal.SIGALRM, self._expired)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="wren-watchdog",
                                                daemon=True)
                self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.started = None
        if self.usable and self._previous is not None:
            signal.signal(signal.SIGALRM, self._previous)

    def _overdue(self) -> bool:
        started = self.started
        return started is not None and self.timeout > 0 and \
            time.time() - started >= self.timeout

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        if self._overdue():
            self.started = None
            raise FunctionTimeoutError(timeout_message(self.timeout))

    def _watch(self) -> None:
        main = threading.main_thread()
        while main.is_alive():
            time.sleep(self.resolution)
            if self._overdue():
                signal.pthread_kill(main.ident, signal.SIGALRM)  # type: ignore[arg-type]

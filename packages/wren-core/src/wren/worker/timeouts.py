"""Per-call time limits inside a worker process, enforced by a watchdog thread.

The runner hands it `running_since`, a function that tells when the running call started
(None between calls), read from the columns the runner fills anyway, so the calls pay nothing
for it. The watchdog thread looks every `resolution` seconds and, once a call overruns
`timeout`, sends `SIGALRM` to the main thread, whose handler
raises `FunctionTimeoutError` inside the call. This needs the task to run on the main
thread; elsewhere (an HTTP runtime serving in threads) the platform's own limit applies.
Code stuck in C that holds the interpreter lock cannot be interrupted this way; adapters
with the `supervises_calls` capability kill such a worker from outside.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from wren._errors import FunctionTimeoutError


def _never() -> float | None:
    return None


def timeout_message(seconds: float) -> str:
    return f"the call exceeded its {seconds:g} s timeout"


class CallWatchdog:
    """Interrupts the main thread's current call when it overruns its time limit."""

    def __init__(self, resolution: float = 0.05) -> None:
        self.resolution = resolution
        #: When the running call started (None between calls); set per task by the runner.
        self.running_since: Callable[[], float | None] = _never
        self.timeout = 0.0
        #: The start of the call last interrupted (each call is interrupted once).
        self._fired: float | None = None
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
        self.running_since = _never
        if self.usable and self._previous is not None:
            signal.signal(signal.SIGALRM, self._previous)

    def _overdue(self) -> float | None:
        """The start of the running call when it overran and was not interrupted yet."""
        started = self.running_since()
        if started is None or self.timeout <= 0 or started == self._fired:
            return None
        return started if time.time() - started >= self.timeout else None

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        started = self._overdue()
        if started is not None:
            self._fired = started  # not again while the exception unwinds the call
            raise FunctionTimeoutError(timeout_message(self.timeout))

    def _watch(self) -> None:
        main = threading.main_thread()
        while main.is_alive():
            time.sleep(self.resolution)
            if self._overdue() is not None:
                signal.pthread_kill(main.ident, signal.SIGALRM)  # type: ignore[arg-type]

"""Per-call time limits inside a worker process, enforced by a watchdog thread.

The runner hands it `running_since`, a function that tells when the running call started
(None between calls), read from the columns the runner fills anyway, so the calls pay nothing
for it. The watchdog thread looks every `resolution` seconds and, once a call overruns
`timeout`, sends `SIGALRM` to the main thread, whose handler
raises `FunctionTimeoutError` inside the call; while a call runs within its limit, it tells
the runner (`meanwhile`), which writes the calls finished before it. This needs the task to
run on the main thread; elsewhere (an HTTP runtime serving in threads) the platform's own
limit applies, and finished calls wait for the running one.
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
from wren.worker.output import original_stderr


def _never() -> float | None:
    return None


def _ignore(started: float) -> None:
    pass


def timeout_message(seconds: float) -> str:
    return f"the call exceeded its {seconds:g} s timeout"


class CallWatchdog:
    """Interrupts the main thread's current call when it overruns its time limit."""

    def __init__(self, resolution: float = 0.05) -> None:
        self.resolution = resolution
        #: When the running call started (None between calls); set per task by the runner.
        self.running_since: Callable[[], float | None] = _never
        self.timeout = 0.0
        #: Told, on the watchdog's thread, when the running call started, each time it looks
        #: while one runs (the runner writes the calls that finished before it meanwhile).
        self.meanwhile: Callable[[float], None] = _ignore
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
        self.running_since, self.meanwhile = _never, _ignore
        if self.usable and self._previous is not None:
            signal.signal(signal.SIGALRM, self._previous)

    def _overdue(self, started: float | None) -> bool:
        """Whether the running call, which `started` then, overran and was not interrupted
        yet."""
        if started is None or self.timeout <= 0 or started == self._fired:
            return False
        return time.time() - started >= self.timeout

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        started = self.running_since()
        if self._overdue(started):
            self._fired = started  # not again while the exception unwinds the call
            raise FunctionTimeoutError(timeout_message(self.timeout))

    def _watch(self) -> None:
        main = threading.main_thread()
        while main.is_alive():
            time.sleep(self.resolution)
            started = self.running_since()
            if self._overdue(started):
                signal.pthread_kill(main.ident, signal.SIGALRM)  # type: ignore[arg-type]
            elif started is not None:
                self._tell(started)

    def _tell(self, started: float) -> None:
        """`meanwhile(started)`; one that fails is not asked again this task (what it
        would have written goes with the task's next flush)."""
        try:
            self.meanwhile(started)
        except Exception as exc:
            self.meanwhile = _ignore
            print(f"wren: could not report the calls finished so far: {exc}",
                  file=original_stderr())

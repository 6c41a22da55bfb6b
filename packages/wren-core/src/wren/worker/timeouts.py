"""Per-call time limits inside a worker process, enforced by a watchdog thread.

Arming costs two attribute writes per call, not system calls: the watchdog thread looks
every `resolution` seconds and, once a call overruns, sends `SIGALRM` to the main thread,
whose handler raises `FunctionTimeoutError` inside the call. This needs the task to run on
the main thread; elsewhere (an HTTP runtime serving in threads) the platform's own limit
applies. Code stuck in C that holds the interpreter lock cannot be interrupted this way;
adapters with the `supervises_calls` capability kill such a worker from outside.
"""

from __future__ import annotations

import math
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
        self._deadline = math.inf
        self._seconds = 0.0
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
        self._deadline = math.inf
        if self.usable and self._previous is not None:
            signal.signal(signal.SIGALRM, self._previous)

    def arm(self, seconds: float | None) -> None:
        if seconds:
            self._seconds = seconds
            self._deadline = time.monotonic() + seconds

    def disarm(self) -> None:
        self._deadline = math.inf

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        if time.monotonic() >= self._deadline:
            self._deadline = math.inf
            raise FunctionTimeoutError(timeout_message(self._seconds))

    def _watch(self) -> None:
        main = threading.main_thread()
        while main.is_alive():
            time.sleep(self.resolution)
            if time.monotonic() >= self._deadline:
                signal.pthread_kill(main.ident, signal.SIGALRM)  # type: ignore[arg-type]

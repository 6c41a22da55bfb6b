"""A task run on another thread after one ran on the main thread: the main thread's call
watchdog (which sets a SIGALRM handler) must not be handed to it, or the task dies with
"signal only works in main thread" and its calls never report."""

from __future__ import annotations

import threading

from wren.worker import runner


def test_a_thread_gets_a_watchdog_that_never_signals() -> None:
    main = runner._get_watchdog()
    assert main.usable and runner._get_watchdog() is main  # kept for the main thread
    found: list[runner.CallWatchdog] = []
    thread = threading.Thread(target=lambda: found.append(runner._get_watchdog()))
    thread.start()
    thread.join()
    assert found[0] is not main and not found[0].usable  # it sets no SIGALRM handler
    assert runner._get_watchdog() is main

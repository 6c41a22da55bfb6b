"""The INFO lines that tell a job's phases with their times (`log_level: INFO`): executor
created, function packed and stored, arguments serialized and sent, calls invoked, waiting,
results downloaded, data cleaned. Each phase's call site asks `telling()` first, so with INFO
off no clock is read and nothing is formatted; these helpers only word sizes and times."""

from __future__ import annotations

import logging
import time

logger = logging.getLogger("wren")


def telling() -> bool:
    """Whether the INFO lines are wanted (the `wren` logger's level allows them)."""
    return logger.isEnabledFor(logging.INFO)


def size_text(size: int) -> str:
    """A byte count for people: `512 B`, `2.1 KiB`, `3.4 MiB`, `1.2 GiB`."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def since(started: float) -> str:
    """The seconds since `started` (a `time.perf_counter()` reading), e.g. `0.012 s`."""
    return f"{time.perf_counter() - started:.3f} s"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


__all__ = ["logger", "plural", "since", "size_text", "telling"]

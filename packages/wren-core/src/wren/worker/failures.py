"""Turn an exception raised in a worker into what the client needs to re-raise it.

The traceback is formatted on the worker, starting at the user's function (wren's own frames
are dropped), and kept as text next to the pickled exception: if the exception cannot be
pickled, or cannot be unpickled on the client, its type, message and traceback still arrive.
"""

from __future__ import annotations

import traceback
from types import TracebackType

from wren.protocol.status import error_info


def user_traceback(exc: BaseException, skip: int = 1) -> str:
    """Format `exc` without the first `skip` frames (the worker's frame calling the user)."""
    tb: TracebackType | None = exc.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def describe(exc: BaseException, kind: str = "exception", skip: int = 1) -> dict[str, str]:
    exc_type = type(exc)
    name = exc_type.__qualname__ if exc_type.__module__ in ("builtins", "__main__") \
        else f"{exc_type.__module__}.{exc_type.__qualname__}"
    return error_info(name, str(exc), user_traceback(exc, skip), kind)

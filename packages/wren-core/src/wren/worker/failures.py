"""Turn an exception raised in a worker into what the client needs to re-raise it.

The traceback is formatted on the worker, starting at the user's function (the frames of
wren's worker machinery that lead to it are dropped; the client marks where they were), and
kept as text next to the pickled exception: if the exception cannot be pickled, or cannot be
unpickled on the client, its type, message and traceback still arrive. Code the function
carried by value shows its file and lines (`wren.worker.sources`).
"""

from __future__ import annotations

import os
import traceback
from types import TracebackType

from wren.protocol.status import error_info
from wren.worker.sources import original_path

#: Frames in these directories, before the first frame of the user's, are wren's own.
_MACHINERY = tuple(os.path.join(os.path.dirname(os.path.dirname(__file__)), part) + os.sep
                   for part in ("worker", "dataproc"))


def user_traceback(exc: BaseException, skip: int = 1) -> str:
    """Format `exc` without the first `skip` frames (the worker's frame calling the user),
    nor, when `skip` > 0, the frames of wren's worker machinery that follow them."""
    tb: TracebackType | None = exc.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    while skip and tb is not None and tb.tb_next is not None \
            and tb.tb_frame.f_code.co_filename.startswith(_MACHINERY):
        tb = tb.tb_next
    formatted = traceback.TracebackException(type(exc), exc, tb)
    _name_original_files(formatted)
    return "".join(formatted.format())


def _name_original_files(formatted: traceback.TracebackException) -> None:
    """Frames of shipped modules named by the client's file, not the worker's copy (their
    lines were read already)."""
    pending, seen = [formatted], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for frame in current.stack:
            frame.filename = original_path(frame.filename)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(getattr(current, "exceptions", None) or ())


def describe(exc: BaseException, kind: str = "exception", skip: int = 1) -> dict[str, str]:
    exc_type = type(exc)
    name = exc_type.__qualname__ if exc_type.__module__ in ("builtins", "__main__") \
        else f"{exc_type.__module__}.{exc_type.__qualname__}"
    return error_info(name, str(exc), user_traceback(exc, skip), kind)

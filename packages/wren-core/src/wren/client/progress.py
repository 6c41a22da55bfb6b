"""Progress while waiting, shown only to a person (a terminal or a notebook; never when output
is redirected, nor inside a worker): one line per job with its key, calls done of all,
calls failed, rate and time left.

A terminal gets tqdm text bars, one per job. A notebook gets tqdm's widgets when ipywidgets
is installed; without it (where tqdm would warn that IProgress is missing) the same lines
as plain text, redrawn in place through one IPython display. Past `MAX_LINES` jobs, the rest
share one line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import attrs

from wren.context import in_worker

#: Jobs shown on a line of their own; the others are summed on one more line.
MAX_LINES = 8
UNIT = "call"


@attrs.frozen
class JobLine:
    """What one line shows: a job (or several, summed), its calls done and failed."""

    label: str
    total: int
    done: int
    failed: int


def _shell() -> Any:
    shell = sys.modules.get("IPython")
    return None if shell is None else getattr(shell, "get_ipython", lambda: None)()


def _in_notebook() -> bool:
    return type(_shell()).__name__ == "ZMQInteractiveShell"


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def wants_progress(enabled: bool) -> bool:
    if not enabled or in_worker():
        return False
    return _in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


def fit(lines: Sequence[JobLine]) -> list[JobLine]:
    """`lines` as shown: the first `MAX_LINES - 1` jobs, then the others on one line."""
    if len(lines) <= MAX_LINES:
        return list(lines)
    rest = lines[MAX_LINES - 1:]
    return [*lines[:MAX_LINES - 1],
            JobLine(f"{len(rest)} more jobs", sum(line.total for line in rest),
                    sum(line.done for line in rest), sum(line.failed for line in rest))]


def _failed_text(failed: int) -> str:
    return f"{failed} failed" if failed else ""


def text_line(line: JobLine, elapsed: float) -> str:
    """One job as a line of text, as tqdm words it: bar, done/total, elapsed<left, rate."""
    from tqdm import tqdm

    text: str = tqdm.format_meter(line.done, line.total, elapsed, ncols=100,
                                  prefix=f"wren {line.label}", unit=UNIT,
                                  postfix=_failed_text(line.failed))
    return text


class _Bars:
    """tqdm bars, one per line: text in a terminal, widgets in a notebook that has them."""

    def __init__(self, lines: Sequence[JobLine], widgets: bool) -> None:
        if widgets:
            from tqdm.notebook import tqdm
        else:
            from tqdm import tqdm
        self._bars = [tqdm(total=line.total, desc=f"wren {line.label}", unit=UNIT,
                           position=index, leave=True, dynamic_ncols=True)
                      for index, line in enumerate(lines)]
        self._shown = [(0, 0)] * len(lines)

    def update(self, lines: Sequence[JobLine]) -> None:
        for index, (bar, line) in enumerate(zip(self._bars, lines)):
            done, failed = self._shown[index]
            if line.failed != failed:
                bar.colour = "red"
                bar.set_postfix_str(_failed_text(line.failed), refresh=False)
            if line.done > done:
                bar.update(line.done - done)
            self._shown[index] = (max(done, line.done), line.failed)

    def close(self) -> None:
        for bar in self._bars:
            bar.close()


class _NotebookText:
    """The lines as plain text in one notebook output, redrawn in place."""

    def __init__(self, lines: Sequence[JobLine]) -> None:
        from IPython.display import display

        self._started = time.monotonic()
        self._handle = display(self._text(lines), display_id=True)

    def _text(self, lines: Sequence[JobLine]) -> Any:
        from IPython.display import Pretty

        elapsed = time.monotonic() - self._started
        return Pretty("\n".join(text_line(line, elapsed) for line in lines))

    def update(self, lines: Sequence[JobLine]) -> None:
        if self._handle is not None:
            self._handle.update(self._text(lines))

    def close(self) -> None:
        pass


class ProgressBar:
    """One line per job while waiting; `update` takes the lines (see `fit`)."""

    def __init__(self, lines: Sequence[JobLine]) -> None:
        lines = fit(lines)
        if not _in_notebook():
            self._view: _Bars | _NotebookText = _Bars(lines, widgets=False)
        elif _has_widgets():
            self._view = _Bars(lines, widgets=True)
        else:  # tqdm's notebook bars would warn that IProgress (ipywidgets) is missing
            self._view = _NotebookText(lines)

    def update(self, lines: Sequence[JobLine]) -> None:
        self._view.update(fit(lines))

    def close(self) -> None:
        self._view.close()


__all__ = ["MAX_LINES", "UNIT", "JobLine", "ProgressBar", "fit", "text_line", "wants_progress"]

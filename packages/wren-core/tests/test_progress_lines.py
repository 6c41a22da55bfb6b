"""Issue 18: progress is one line per job (its key, done/failed, rate, time left); in a
notebook without ipywidgets it is plain text redrawn in place, with no TqdmWarning; failures
show. The notebook is an IPython stand-in: a shell class of the kernel's name and a display
that records what it is given (IPython is not installed here)."""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from wren.client import session
from wren.client.progress import MAX_LINES, JobLine, fit, text_line

pytestmark = [pytest.mark.usefixtures("thread_backends"), pytest.mark.timeout(60)]


class ZMQInteractiveShell:
    """Named as the Jupyter kernel's shell, which is what the progress code looks at."""


class Shown:
    """What the stand-in notebook displayed: the text of each update of one display."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def update(self, obj: Any) -> None:
        self.texts.append(obj.data)


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Shown]]:
    """A notebook without ipywidgets; yields the displays made in it."""
    shown: list[Shown] = []
    ipython = types.ModuleType("IPython")
    shell = ZMQInteractiveShell()
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    display_module = types.ModuleType("IPython.display")

    class Pretty:
        def __init__(self, data: str) -> None:
            self.data = data

    def display(obj: Any, display_id: bool = False) -> Shown:
        assert display_id is True  # redrawn in place, not appended
        handle = Shown()
        handle.update(obj)
        shown.append(handle)
        return handle

    display_module.Pretty = Pretty  # type: ignore[attr-defined]
    display_module.display = display  # type: ignore[attr-defined]
    ipython.display = display_module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` fails
    yield shown


def _slow(x: int) -> int:
    import time

    time.sleep(0.05)
    if x in (3, 7):
        raise ValueError(f"bad {x}")
    return x


def test_a_notebook_without_ipywidgets_gets_text_lines_and_no_warning(
        notebook: list[Shown]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TqdmWarning (IProgress not found) would raise
        with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
            first = fexec.map(_slow, range(10))
            second = fexec.map(_slow, range(4))
            results = fexec.get_result([*first, *second], throw_except=False)
    assert results[:3] == [0, 1, 2] and results[3] is None
    (display,) = notebook
    last = display.texts[-1].splitlines()
    assert len(last) == 2  # one line per job
    first_key, second_key = first[0].job_key, second[0].job_key
    assert last[0].startswith(f"wren {first_key}: 100%") and "10/10" in last[0]
    assert "2 failed" in last[0]
    assert last[1].startswith(f"wren {second_key}: 100%") and "4/4" in last[1]
    assert "1 failed" in last[1]
    assert all("call/s" in line or "s/call" in line for line in last)  # the rate
    assert len(display.texts) >= 2  # drawn, then redrawn as calls finished


def test_a_terminal_line_per_job(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(session, "wants_progress", lambda enabled: True)  # as on a terminal
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        futures = fexec.map(_slow, range(8))
        fexec.get_result(futures, throw_except=False)
    err = capsys.readouterr().err
    assert f"wren {futures[0].job_key}:" in err and "8/8" in err and "2 failed" in err


def test_the_line_says_done_total_failed_rate_and_time_left() -> None:
    line = text_line(JobLine("ab12cd-0/M000", 200, 50, 3), elapsed=10.0)
    assert line.startswith("wren ab12cd-0/M000:  25%")
    assert "50/200" in line and "3 failed" in line
    assert "5.00call/s" in line  # 50 calls in 10 s
    assert "00:10<00:30" in line  # elapsed < time left at that rate
    assert "failed" not in text_line(JobLine("x-0/M000", 4, 4, 0), elapsed=1.0)


def test_many_jobs_share_the_last_line() -> None:
    lines = [JobLine(f"e-0/M{n:03d}", 10, n, n % 2) for n in range(MAX_LINES + 5)]
    shown = fit(lines)
    assert len(shown) == MAX_LINES
    assert shown[:-1] == lines[:MAX_LINES - 1]
    rest = lines[MAX_LINES - 1:]
    assert shown[-1] == JobLine("6 more jobs", 60, sum(r.done for r in rest),
                                sum(r.failed for r in rest))
    assert fit(lines[:3]) == lines[:3]

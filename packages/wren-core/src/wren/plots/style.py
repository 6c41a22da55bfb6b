"""Colours, sizes and legend entries the plots share: one colour per job (red is kept for
failures), the stages' colours, and the smallest span a call is drawn with."""

from __future__ import annotations

from typing import Any

from wren.plots.data import CallTimes

#: Job colours in order (no red: red means failed; no orange or grey: those are stages).
JOB_COLOURS = ("#2ca02c", "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#3b6e3b")
FAILED = "#d62728"
SLOWEST_EDGE = "#111111"
RESULT_MARK = "#333333"
#: Legend entries for jobs, at most (the rest are summed up in one entry).
MAX_JOB_ENTRIES = 8
#: A running span is drawn at least this fraction of the time axis wide (about 3 pixels).
MIN_SPAN_FRACTION = 1 / 600


def job_colour(number: int) -> str:
    return JOB_COLOURS[number % len(JOB_COLOURS)]


def row_colours(times: CallTimes) -> Any:
    """The colour of each call's running span: its job's, red when it failed."""
    import numpy as np

    palette = np.array([job_colour(i) for i in range(len(times.jobs))], dtype=object)
    colours = palette[times.job]
    colours[~times.success] = FAILED
    return colours


def min_span(times: CallTimes) -> float:
    """The narrowest running span drawn, in seconds (calls under a millisecond show)."""
    return times.end * 1.02 * MIN_SPAN_FRACTION


def widened(starts: Any, ends: Any, least: float) -> tuple[Any, Any]:
    """Spans at least `least` wide, centred on the real ones."""
    import numpy as np

    ends = np.maximum(ends, starts)
    short = (ends - starts) < least
    middle = (starts + ends) / 2
    return (np.where(short, middle - least / 2, starts),
            np.where(short, middle + least / 2, ends))


def job_handles(times: CallTimes, what: str = "running") -> list[Any]:
    """Legend entries: one per job with its colour, key and size."""
    from matplotlib.patches import Patch

    handles = []
    for number, (key, _, count) in enumerate(times.jobs[:MAX_JOB_ENTRIES]):
        job_id = key.split("/", 1)[1]
        handles.append(Patch(color=job_colour(number),
                             label=f"job {job_id} {what} ({count:,} call"
                                   f"{'s' if count != 1 else ''})"))
    hidden = len(times.jobs) - MAX_JOB_ENTRIES
    if hidden > 0:
        handles.append(Patch(color="white", label=f"... and {hidden} more jobs"))
    return handles


def failed_handle() -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=FAILED, marker="x", linewidth=3, markersize=7,
                  label="failed call")


def boxes(x0: Any, x1: Any, bottom: Any, top: Any) -> Any:
    """Rectangles (for a `PolyCollection`) from x0 to x1 and bottom to top."""
    import numpy as np

    return np.stack([np.column_stack(np.broadcast_arrays(x, y)) for x, y in
                     ((x0, bottom), (x0, top), (x1, top), (x1, bottom))], axis=1)

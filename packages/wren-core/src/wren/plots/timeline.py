"""The timeline: every call (or band of calls) across its stages, in submission order.

Up to `ROW_LIMIT` calls each is a row; past that, bands of consecutive calls of a job, each
drawn as its median call (and a thin line from its first call starting to its last call
ending), see `wren.plots.layout`. Failed calls and the `SLOWEST` slowest calls are drawn on their own
on top of the bands, so they never hide; a running span is at least `MIN_SPAN_FRACTION` of
the axis wide; results downloaded are ticks, one per group of calls with gaps between them.
Each job's running span has its own colour (red is a failure). Every artist is a collection
with a `gid` ("stage:...", "running", "extent", "failed", "slowest", "results"), which is
what the tests look at.
"""

from __future__ import annotations

import math
from typing import Any

from wren.plots.data import CallTimes
from wren.plots.layout import Groups, Layout, layout
from wren.plots.style import (
    FAILED,
    RESULT_MARK,
    SLOWEST_EDGE,
    boxes,
    failed_handle,
    job_colour,
    job_handles,
    min_span,
    widened,
)

STAGES = (  # (from, to, label, colour, gid)
    ("host_submit_tstamp", "worker_start_tstamp", "waiting for a worker", "#c7c7c7",
     "stage:waiting"),
    ("worker_start_tstamp", "worker_func_start_tstamp", "in its worker, before the call",
     "#9ecae1", "stage:worker"),
    ("worker_func_end_tstamp", "host_status_done_tstamp", "until the client knew",
     "#fdd0a2", "stage:known"),
)
#: The slowest calls drawn one by one on top of the bands.
SLOWEST = 10
#: Result ticks drawn, at most (one per group of calls).
MAX_RESULT_TICKS = 60


def _bars(ax: Any, x0: Any, x1: Any, groups: Groups, keep: Any, colours: Any,
          gid: str, pad: float = 0.1, **style: Any) -> None:
    import numpy as np
    from matplotlib.collections import PolyCollection

    keep = keep & ~(np.isnan(x0) | np.isnan(x1))
    colours = colours[keep] if isinstance(colours, np.ndarray) else colours
    y0, y1 = groups.y0[keep], groups.y1[keep]
    h = (y1 - y0) * pad
    shapes = boxes(x0[keep], np.maximum(x1[keep], x0[keep]), y0 + h, y1 - h)
    ax.add_collection(PolyCollection(shapes, facecolors=colours, edgecolors="none",
                                     gid=gid, **style))


def draw_timeline(fig: Any, times: CallTimes) -> None:
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = fig.add_subplot()
    where = layout(times)
    bands = where.groups(times)
    every = np.ones(len(bands), dtype=bool)
    handles = []
    for start, end, label, colour, gid in STAGES:
        _bars(ax, bands.stat(times.columns[start]), bands.stat(times.columns[end]), bands,
              every, colour, gid)
        handles.append(Line2D([], [], color=colour, linewidth=6, label=label))
    least = min_span(times)
    starts, ends = times.columns["worker_func_start_tstamp"], times.columns[
        "worker_func_end_tstamp"]
    band_colours = np.array([job_colour(j) for j in bands.job], dtype=object)
    if bands.size == 1:
        band_colours[~times.success[bands.first]] = FAILED
    _bars(ax, *widened(bands.stat(starts), bands.stat(ends), least), bands, every,
          band_colours, "running")
    handles.extend(job_handles(times))
    if bands.size > 1:  # a line from the band's first call starting to its last ending
        x0, x1 = bands.stat(starts, "min"), bands.stat(ends, "max")
        keep = ~(np.isnan(x0) | np.isnan(x1))
        ax.add_collection(LineCollection(
            _segments(x0[keep], x1[keep], ((bands.y0 + bands.y1) / 2)[keep]),
            colors=list(band_colours[keep]), linewidths=0.7, alpha=0.7, gid="extent"))
        handles.append(Line2D([], [], color=job_colour(0), alpha=0.7, linewidth=0.7,
                              label="a band's calls, first start to last end"))
    handles.extend(_alone(ax, times, where, least, bands))
    handles.extend(_result_ticks(ax, times, where))
    _jobs_and_axes(ax, times, where)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
              frameon=False, fontsize=9)


def _alone(ax: Any, times: CallTimes, where: Layout, least: float, bands: Groups
           ) -> list[Any]:
    """Failed calls (always) and, among bands, the slowest calls, each on its own."""
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    starts, ends = widened(times.columns["worker_func_start_tstamp"],
                           times.columns["worker_func_end_tstamp"], least)
    ran = ~(np.isnan(starts) | np.isnan(ends))
    handles = []
    banded = bands.size > 1
    failed = np.nonzero(~times.success & ran)[0]
    if len(failed):
        y = where.row_y(failed)
        if banded:
            ax.add_collection(LineCollection(_segments(starts[failed], ends[failed], y),
                                             colors=FAILED, linewidths=2.5, gid="failed"))
        ax.scatter(ends[failed], y, s=28, marker="x", color=FAILED, linewidths=1.2,
                   zorder=4, gid="failed-marks")
        handles.append(failed_handle())
    if banded:
        shared = (bands.stop - bands.first)[bands.of_row] > 1  # a call alone shows anyway
        duration = np.where(times.success & ran & shared, ends - starts, -np.inf)
        slow = np.argsort(duration)[-SLOWEST:]
        slow = slow[np.isfinite(duration[slow])]
        if len(slow):
            segments = _segments(starts[slow], ends[slow], where.row_y(slow))
            ax.add_collection(LineCollection(segments, colors=SLOWEST_EDGE, linewidths=4.0,
                                             zorder=3, gid="slowest-edge"))
            ax.add_collection(LineCollection(
                segments, colors=[job_colour(j) for j in times.job[slow]], linewidths=2.0,
                zorder=3, gid="slowest"))
            handles.append(Line2D([], [], color=job_colour(0), linewidth=2,
                                  path_effects=_edge(), label=f"{len(slow)} slowest calls"))
    return handles


def _edge() -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=4, foreground=SLOWEST_EDGE), patheffects.Normal()]


def _segments(x0: Any, x1: Any, y: Any) -> Any:
    import numpy as np

    return np.stack([np.column_stack([x0, y]), np.column_stack([x1, y])], axis=1)


def _result_ticks(ax: Any, times: CallTimes, where: Layout) -> list[Any]:
    """One tick per group of calls at the median moment its results were downloaded."""
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    result = times.columns["host_result_done_tstamp"]
    if np.isnan(result).all():
        return []
    groups = where.groups(times, max(1, math.ceil(times.size / MAX_RESULT_TICKS)))
    x = groups.stat(result)
    keep = ~np.isnan(x)
    pad = (groups.y1 - groups.y0)[keep] * 0.2
    ticks: Any = np.stack([np.column_stack([x[keep], groups.y0[keep] + pad]),
                            np.column_stack([x[keep], groups.y1[keep] - pad])], axis=1)
    ax.add_collection(LineCollection(ticks, colors=RESULT_MARK, linewidths=1.2, zorder=3,
                                     gid="results"))
    label = "result downloaded" if groups.size == 1 else \
        f"results downloaded (median of {groups.size:,} calls)"
    return [Line2D([], [], color=RESULT_MARK, marker="|", linestyle="none", markersize=9,
                   label=label)]


def _jobs_and_axes(ax: Any, times: CallTimes, where: Layout) -> None:
    from matplotlib.ticker import MaxNLocator

    by_job = len(where.counts) > 1
    ticks, labels = [], []
    middle = 0.5 if where.band_size == 1 else 0.0  # rows: ticks at their middle
    for number, count in enumerate(where.counts):
        y0, height = where.y0[number], where.row_height[number] * count
        share = height / where.total
        if share >= 0.1 or not by_job:
            for call in MaxNLocator(max(2, int(8 * share)), integer=True).tick_values(0, count):
                if 0 <= call < count or (call == count and not by_job and middle == 0):
                    ticks.append(y0 + (call + middle) * where.row_height[number])
                    labels.append(f"{int(call):,}")
        if by_job and number:
            ax.axhline(y0, color="#666666", linewidth=0.6, linestyle="--")
        if by_job:
            key = times.jobs[number][0]
            ax.annotate(key.split("/", 1)[1], (1.0, y0 + height / 2), xycoords=(
                "axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                va="center", fontsize=8, color=job_colour(number))
    ax.set_yticks(ticks, labels)
    ax.set_xlim(0, times.end * 1.02)
    ax.set_ylim(where.total, 0)
    ax.set_xlabel(times.since())
    unit = "call" if where.band_size == 1 else f"call (bands of {where.band_size:,} calls)"
    ax.set_ylabel(f"{unit}, in submission order" + (", by job" if by_job else ""))
    ax.set_title(f"Timeline of every call: {times.describe()}", loc="left")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)

"""The workers view: one lane per worker process (host and pid), each call drawn where and
when it ran, coloured by its job (red: failed), over light spans of the tasks the worker ran.

It shows what the timeline cannot: how the platform spread the calls over workers, how
busy each worker was, and the gaps between its tasks. A call is at least
`MIN_SPAN_FRACTION` of the axis wide while its lane holds few enough calls to stay apart;
a lane crowded with short calls draws them at their true width, so its colour's density is
how busy the worker was. Lanes are ordered by their first call. Artists carry `gid`s
("tasks", "calls") for the tests.
"""

from __future__ import annotations

from typing import Any

from wren.plots.data import CallTimes
from wren.plots.style import (
    FAILED,
    MIN_SPAN_FRACTION,
    boxes,
    failed_handle,
    job_handles,
    min_span,
    row_colours,
    widened,
)

TASK_COLOUR = "#dddddd"
#: Lanes labelled with their worker's name, at most (beyond, by number).
NAMED_LANES = 30


def draw_lanes(fig: Any, times: CallTimes) -> None:
    import numpy as np
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D

    ax = fig.add_subplot()
    starts = times.columns["worker_func_start_tstamp"]
    ends = times.columns["worker_func_end_tstamp"]
    known = (times.lane >= 0) & ~(np.isnan(starts) | np.isnan(ends))
    rows = np.nonzero(known)[0]
    first_start = np.full(len(times.workers), np.inf)
    np.minimum.at(first_start, times.lane[rows], starts[rows])
    order = np.argsort(first_start, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    lane = position[times.lane[rows]]
    handles = []
    tasks = _task_spans(times, rows, lane)
    if len(tasks):
        lanes_of = tasks[:, 0]
        ax.add_collection(PolyCollection(
            boxes(tasks[:, 1], tasks[:, 2], lanes_of + 0.08, lanes_of + 0.92),
            facecolors=TASK_COLOUR, edgecolors="none", gid="tasks"))
        handles.append(Line2D([], [], color=TASK_COLOUR, linewidth=6,
                              label="task in its worker"))
    x0, x1 = starts[rows], np.maximum(ends[rows], starts[rows])
    per_lane = np.bincount(lane, minlength=len(order)) if len(rows) else np.zeros(0)
    crowded = per_lane[lane] * MIN_SPAN_FRACTION > 0.5 if len(rows) else np.zeros(0, bool)
    wide0, wide1 = widened(x0, x1, min_span(times))
    x0, x1 = np.where(crowded, x0, wide0), np.where(crowded, x1, wide1)
    ax.add_collection(PolyCollection(boxes(x0, x1, lane + 0.2, lane + 0.8),
                                     facecolors=row_colours(times)[rows], edgecolors="none",
                                     gid="calls"))
    handles.extend(job_handles(times))
    failed = ~times.success[rows]
    if failed.any():  # on top, marked: one failure among thousands of calls still shows
        ax.add_collection(PolyCollection(
            boxes(wide0[failed], wide1[failed], lane[failed] + 0.1, lane[failed] + 0.9),
            facecolors=FAILED, edgecolors="none", zorder=3, gid="failed"))
        ax.scatter(x1[failed], lane[failed] + 0.5, s=28, marker="x", color=FAILED,
                   linewidths=1.2, zorder=4, gid="failed-marks")
        handles.append(failed_handle())
    lanes = len(order)
    ax.set_xlim(0, times.end * 1.02)
    ax.set_ylim(max(lanes, 1), 0)
    if lanes <= NAMED_LANES:
        ax.set_yticks(np.arange(lanes) + 0.5, [times.workers[i] for i in order], fontsize=7)
        ax.set_ylabel("worker (host pid), by first call")
    else:
        ax.set_ylabel("worker, by first call")
    ax.set_xlabel(times.since())
    missing = times.size - len(rows)
    note = f"; {missing:,} calls with no worker known" if missing else ""
    ax.set_title(f"Calls per worker: {lanes:,} worker{'s' if lanes != 1 else ''}, "
                 f"{times.describe()}{note}", loc="left")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4,
              frameon=False, fontsize=9)


def _task_spans(times: CallTimes, rows: Any, lane: Any) -> Any:
    """(lane, start, end) of each task: its worker's start to its last call's end."""
    import numpy as np

    begun = times.columns["worker_start_tstamp"][rows]
    ended = times.columns["worker_func_end_tstamp"][rows]
    keep = ~np.isnan(begun)
    if not keep.any():
        return np.zeros((0, 3))
    keys = np.column_stack([lane[keep], begun[keep]])
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    last = np.full(len(unique), -np.inf)
    np.maximum.at(last, inverse.ravel(), ended[keep])
    return np.column_stack([unique[:, 0], unique[:, 1], np.maximum(last, unique[:, 1])])


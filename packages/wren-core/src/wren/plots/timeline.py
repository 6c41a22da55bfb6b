"""The timeline: one row per call, one coloured span per stage of its life.

Spans are drawn as line collections (one artist per stage, not one per call), so a plot of
100,000 calls renders as fast as one of ten; the line width shrinks with the number of
rows, and at a thousand rows the stages read as bands of colour. Failed calls also get a
cross of fixed size, so one failure among thousands still shows.
"""

from __future__ import annotations

from typing import Any

from wren.plots.data import CallTimes

STAGES = (  # (from, to, label, colour)
    ("host_submit_tstamp", "worker_start_tstamp", "waiting for a worker", "#c7c7c7"),
    ("worker_start_tstamp", "worker_func_start_tstamp", "in its worker, before the call",
     "#9ecae1"),
    ("worker_func_end_tstamp", "host_status_done_tstamp", "until the client knew",
     "#fdd0a2"),
)
RUN_OK, RUN_FAILED = "#2ca02c", "#d62728"
RESULT_MARK = "#333333"


def _spans(times: CallTimes, start: str, end: str, rows: Any) -> Any:
    import numpy as np

    a, b = times.columns[start][rows], times.columns[end][rows]
    y = np.nonzero(rows)[0] if rows.dtype == bool else rows
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b, y = a[keep], np.maximum(b[keep], a[keep]), y[keep]
    return np.stack([np.column_stack([a, y]), np.column_stack([b, y])], axis=1)


def draw_timeline(fig: Any, times: CallTimes) -> None:
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = fig.add_subplot()
    n = times.size
    width = float(np.clip(360.0 / max(n, 1), 0.5, 8.0))
    every = np.ones(n, dtype=bool)
    handles = []
    for start, end, label, colour in STAGES:
        ax.add_collection(LineCollection(_spans(times, start, end, every), colors=colour,
                                         linewidths=width, capstyle="butt"))
        handles.append(Line2D([], [], color=colour, linewidth=6, label=label))
    for rows, colour in ((times.success, RUN_OK), (~times.success, RUN_FAILED)):
        if rows.any():
            ax.add_collection(LineCollection(
                _spans(times, "worker_func_start_tstamp", "worker_func_end_tstamp", rows),
                colors=colour, linewidths=width, capstyle="butt"))
    handles.append(Line2D([], [], color=RUN_OK, linewidth=6, label="function running"))
    failed = np.nonzero(~times.success)[0]
    if len(failed):  # marked at any scale: a failure must not hide in a thin row
        ax.scatter(times.columns["worker_func_end_tstamp"][failed], failed, s=28, marker="x",
                   color=RUN_FAILED, linewidths=1.2, zorder=4)
        handles.append(Line2D([], [], color=RUN_FAILED, marker="x", linestyle="none",
                              markersize=7, label="failed call (red: its run)"))
    result = times.columns["host_result_done_tstamp"]
    if not np.isnan(result).all():
        ax.scatter(result, np.arange(n), s=max(1.0, min(16.0, 4000.0 / n)), marker="|",
                   color=RESULT_MARK, linewidths=0.8, zorder=3)
        handles.append(Line2D([], [], color=RESULT_MARK, marker="|", linestyle="none",
                              markersize=9, label="result downloaded"))
    for _key, first, _count in times.jobs[1:]:
        ax.axhline(first - 0.5, color="#666666", linewidth=0.6, linestyle="--")
    if len(times.jobs) > 1:
        for key, first, count in times.jobs:
            ax.annotate(key.split("/", 1)[1], (1.0, first + count / 2), xycoords=(
                "axes fraction", "data"), xytext=(4, 0), textcoords="offset points",
                va="center", fontsize=8, color="#444444")
    end = np.nanmax([np.nanmax(c) for c in times.columns.values()])
    ax.set_xlim(0, max(end, 1e-3) * 1.02)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(times.since())
    ax.set_ylabel("call (in submission order)")
    ax.set_title(f"Timeline of every call: {times.describe()}", loc="left")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
              frameon=False, fontsize=9)

"""The histogram: how many calls were running in each slice of time, and how many had
finished, from the job's submission to its last result.

A bar is the average number of functions running during its bin (their running seconds in
the bin over its width), so it shows the concurrency the platform really gave the job,
whatever the bin width; the line (right axis) is the number of calls finished by then.
"""

from __future__ import annotations

import math
from typing import Any

from wren.plots.data import CallTimes

BAR_COLOUR, LINE_COLOUR = "#4c78a8", "#e45756"
TARGET_BINS = 80


def nice_width(span: float, target: int = TARGET_BINS) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `target` bins."""
    raw = max(span, 1e-3) / target
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def running_per_bin(starts: Any, ends: Any, edges: Any) -> Any:
    """The average number of calls running during each bin [edges[i], edges[i+1]): the
    function-seconds that fall in the bin divided by its width."""
    import numpy as np

    def busy_until(t: Any, moments: Any) -> Any:  # sum of (t - m) over moments before t
        moments = np.sort(moments)
        prefix = np.concatenate([[0.0], np.cumsum(moments)])
        count = np.searchsorted(moments, t, side="left")
        return count * t - prefix[count]

    total = busy_until(edges, starts) - busy_until(edges, ends)
    return np.diff(total) / np.diff(edges)


def draw_histogram(fig: Any, times: CallTimes) -> None:
    import numpy as np

    starts = times.columns["worker_func_start_tstamp"]
    ends = times.columns["worker_func_end_tstamp"]
    keep = ~(np.isnan(starts) | np.isnan(ends))
    starts, ends = starts[keep], np.maximum(ends[keep], starts[keep])
    last = np.nanmax([np.nanmax(c) for c in times.columns.values()])
    width = nice_width(last)
    edges = np.arange(0.0, last + width, width)
    if len(edges) < 2:
        edges = np.array([0.0, width])
    running = running_per_bin(starts, ends, edges)
    ax = fig.add_subplot()
    ax.bar(edges[:-1], running, width=width, align="edge", color=BAR_COLOUR,
           edgecolor="white" if len(running) <= 60 else BAR_COLOUR, linewidth=0.4,
           label="calls running")
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, max(1.0, float(running.max())) * 1.1)
    ax.set_xlabel(f"{times.since()} (bins of {width:g} s)")
    ax.set_ylabel("calls running (average over the bin)")
    ax.set_title(f"Calls running over time: {times.describe()}", loc="left")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    done_at = np.sort(ends)
    right = ax.twinx()
    right.step(np.concatenate([[0.0], done_at, [edges[-1]]]),
               np.concatenate([[0], np.arange(1, len(done_at) + 1), [len(done_at)]]),
               where="post", color=LINE_COLOUR, linewidth=1.6, label="calls finished")
    right.set_ylim(0, max(1, times.size) * 1.05)
    right.set_ylabel("calls finished", color=LINE_COLOUR)
    right.tick_params(axis="y", colors=LINE_COLOUR)
    handles = [*ax.get_legend_handles_labels()[0], *right.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
              frameon=False, fontsize=9)

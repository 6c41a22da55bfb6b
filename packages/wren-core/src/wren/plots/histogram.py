"""The histogram: how many calls were running in each slice of time, and how many had
finished, from the job's submission to its last result.

A bar is the average number of functions running during its bin (their running seconds in
the bin over its width), so it shows the concurrency the platform really gave the job,
whatever the bin width; the line (right axis) is the number of calls finished by then. With
several jobs the bars are stacked, one colour per job.
"""

from __future__ import annotations

import math
from typing import Any

from wren.plots.data import CallTimes
from wren.plots.style import MAX_JOB_ENTRIES, job_colour

BAR_COLOUR, LINE_COLOUR = "#4c78a8", "#333333"  # red is kept for failures
OTHER_JOBS = "#9a9a9a"
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
    last = times.end
    width = nice_width(last)
    edges = np.arange(0.0, last + width, width)
    if len(edges) < 2:
        edges = np.array([0.0, width])
    ax = fig.add_subplot()
    bottom = np.zeros(len(edges) - 1)
    for number, (rows, colour, label) in enumerate(_layers(times)):
        mine = keep & rows
        running = running_per_bin(starts[mine], np.maximum(ends[mine], starts[mine]), edges)
        ax.bar(edges[:-1], running, width=width, bottom=bottom, align="edge", color=colour,
               edgecolor="white" if len(running) <= 60 else colour, linewidth=0.4,
               label=label, gid=f"layer:{number}")
        bottom = bottom + running
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, max(1.0, float(bottom.max())) * 1.1)
    ax.set_xlabel(f"{times.since()} (bins of {width:g} s)")
    ax.set_ylabel("calls running (average over the bin)")
    ax.set_title(f"Calls running over time: {times.describe()}", loc="left")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    done_at = np.sort(ends[keep])
    right = ax.twinx()
    right.step(np.concatenate([[0.0], done_at, [edges[-1]]]),
               np.concatenate([[0], np.arange(1, len(done_at) + 1), [len(done_at)]]),
               where="post", color=LINE_COLOUR, linewidth=1.6, label="calls finished")
    right.set_ylim(0, max(1, times.size) * 1.05)
    right.set_ylabel("calls finished", color=LINE_COLOUR)
    right.tick_params(axis="y", colors=LINE_COLOUR)
    handles = [*ax.get_legend_handles_labels()[0], *right.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1),
              ncol=min(4, len(handles)), frameon=False, fontsize=9)


def _layers(times: CallTimes) -> list[tuple[Any, str, str]]:
    """(rows, colour, label) of each stacked layer: one per job, the jobs past
    `MAX_JOB_ENTRIES - 1` together in one."""
    if len(times.jobs) == 1:
        return [(times.job == 0, BAR_COLOUR, "calls running")]
    layers = []
    alone = len(times.jobs) if len(times.jobs) <= MAX_JOB_ENTRIES else MAX_JOB_ENTRIES - 1
    for number, (key, _, count) in enumerate(times.jobs[:alone]):
        layers.append((times.job == number, job_colour(number),
                       f"job {key.split('/', 1)[1]} running ({count:,} call"
                       f"{'s' if count != 1 else ''})"))
    if alone < len(times.jobs):
        layers.append((times.job >= alone, OTHER_JOBS,
                       f"{len(times.jobs) - alone:,} more jobs running"))
    return layers

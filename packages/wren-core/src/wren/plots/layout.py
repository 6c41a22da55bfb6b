"""Where the timeline puts each call: rows up to `ROW_LIMIT` calls, bands past that.

Up to `ROW_LIMIT` calls, each call is a row. Past it, consecutive calls of a job are grouped
into bands of `group` calls (about `TARGET_BANDS` bands in all), and a band is drawn as its
median call (plus the extent of its calls running), so 100,000 calls read as well as 300.
Bands never cross jobs, and every job gets at least `MIN_JOB_SHARE` of the height when
there are few jobs, so a one-call reducer after a 10,000-call map stays visible. `stat`
reduces a column per band (or per coarser group, for the result marks) without a Python
loop over calls.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import attrs

from wren.plots.data import CallTimes

ROW_LIMIT = 300
TARGET_BANDS = 240
MIN_JOB_SHARE = 0.03
#: Jobs up to this many get `MIN_JOB_SHARE` of the height at least.
FEW_JOBS = 20


@attrs.frozen
class Groups:
    """Consecutive calls of one job taken together: `job[b]`, rows `first[b]` to
    `stop[b]`, drawn from `y0[b]` to `y1[b]`."""

    size: int
    job: Any
    first: Any
    stop: Any
    y0: Any
    y1: Any
    #: Per call row: its group, and its column within it.
    of_row: Any
    column: Any

    def __len__(self) -> int:
        return len(self.first)

    def stat(self, values: Any, how: str = "median") -> Any:
        """`values` (one per call row) reduced per group, NaNs ignored (NaN if all are)."""
        import numpy as np

        padded = np.full((len(self), self.size), math.nan)
        padded[self.of_row, self.column] = values
        reduce: Any = {"median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}[how]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups stay NaN
            return reduce(padded, axis=1)


@attrs.frozen
class Layout:
    """Heights of the jobs, the y of every call, and the bands drawn."""

    firsts: Any
    job_y0: Any
    row_height: Any
    total: float
    band_size: int

    def row_y(self, times: CallTimes, rows: Any) -> Any:
        """The centre of each of these call rows."""
        job = times.job[rows]
        return self.job_y0[job] + (rows - self.firsts[job] + 0.5) * self.row_height[job]

    def groups(self, times: CallTimes, size: int | None = None) -> Groups:
        """Groups of `size` calls (default: the bands)."""
        import numpy as np

        size = size or self.band_size
        counts = np.array([count for _, _, count in times.jobs], dtype=np.int64)
        per_job = -(-counts // size)  # ceil
        offsets = np.concatenate([[0], np.cumsum(per_job)[:-1]])
        local = np.arange(times.size) - self.firsts[times.job]
        job = np.repeat(np.arange(len(counts)), per_job)
        first = (np.arange(len(job)) - offsets[job]) * size
        stop = np.minimum(first + size, counts[job])
        height = self.row_height[job]
        return Groups(size, job, self.firsts[job] + first, self.firsts[job] + stop,
                      self.job_y0[job] + first * height, self.job_y0[job] + stop * height,
                      offsets[times.job] + local // size, local % size)


def layout(times: CallTimes) -> Layout:
    """Rows or bands for `times` (see the module docstring)."""
    import numpy as np

    n = times.size
    counts = np.array([count for _, _, count in times.jobs], dtype=float)
    heights = counts.copy()
    if 1 < len(times.jobs) <= FEW_JOBS:
        heights = np.maximum(heights, MIN_JOB_SHARE * n)
    firsts = np.array([first for _, first, _ in times.jobs], dtype=np.int64)
    job_y0 = np.concatenate([[0.0], np.cumsum(heights)[:-1]])
    band = 1 if n <= ROW_LIMIT else math.ceil(n / TARGET_BANDS)
    return Layout(firsts, job_y0, heights / counts, float(heights.sum()), band)

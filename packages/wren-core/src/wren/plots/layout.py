"""Where the timeline puts each call: rows up to `ROW_LIMIT` calls, bands past that.

Up to `ROW_LIMIT` calls, each call is a row. Past it, consecutive calls of a job are grouped
into bands of `group` calls (about `TARGET_BANDS` bands in all), and a band is drawn as its
median call (plus the extent of its calls running), so 100,000 calls read as well as 300.
Bands never cross jobs, and every job gets at least `MIN_JOB_SHARE` of the height when
there are few jobs, so a one-call reducer after a 10,000-call map stays visible; past
`FEW_JOBS` jobs (call_async in a loop), bands run across jobs. `stat`
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
    """Consecutive calls taken together: rows `first[b]` to `stop[b]`, drawn from `y0[b]`
    to `y1[b]`, in the colour of job `job[b]` (its first call's)."""

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
    """The y of every call: rows are laid out in segments (one per job, or one for all when
    there are more than `FEW_JOBS` jobs), each from `y0[s]`, `row_height[s]` per call."""

    segment: Any
    firsts: Any
    counts: Any
    y0: Any
    row_height: Any
    total: float
    band_size: int

    def row_y(self, rows: Any) -> Any:
        """The centre of each of these call rows."""
        seg = self.segment[rows]
        return self.y0[seg] + (rows - self.firsts[seg] + 0.5) * self.row_height[seg]

    def groups(self, times: CallTimes, size: int | None = None) -> Groups:
        """Groups of `size` calls (default: the bands), never across segments; a group's
        job (its colour) is its first call's."""
        import numpy as np

        size = size or self.band_size
        per_segment = -(-self.counts // size)  # ceil
        offsets = np.concatenate([[0], np.cumsum(per_segment)[:-1]])
        local = np.arange(len(self.segment)) - self.firsts[self.segment]
        seg = np.repeat(np.arange(len(self.counts)), per_segment)
        first = (np.arange(len(seg)) - offsets[seg]) * size
        stop = np.minimum(first + size, self.counts[seg])
        height = self.row_height[seg]
        return Groups(size, times.job[self.firsts[seg] + first], self.firsts[seg] + first,
                      self.firsts[seg] + stop, self.y0[seg] + first * height,
                      self.y0[seg] + stop * height, offsets[self.segment] + local // size,
                      local % size)


def layout(times: CallTimes) -> Layout:
    """Rows or bands for `times` (see the module docstring)."""
    import numpy as np

    n = times.size
    if len(times.jobs) <= FEW_JOBS:
        segment = np.asarray(times.job, dtype=np.int64)
        firsts = np.array([first for _, first, _ in times.jobs], dtype=np.int64)
        counts = np.array([count for _, _, count in times.jobs], dtype=np.int64)
    else:  # many small jobs (call_async in a loop): bands run across them
        segment = np.zeros(n, dtype=np.int64)
        firsts, counts = np.array([0]), np.array([n])
    heights = counts.astype(float)
    if len(counts) > 1:
        heights = np.maximum(heights, MIN_JOB_SHARE * n)
    y0 = np.concatenate([[0.0], np.cumsum(heights)[:-1]])
    band = 1 if n <= ROW_LIMIT else math.ceil(n / TARGET_BANDS)
    return Layout(segment, firsts, counts, y0, heights / counts, float(heights.sum()), band)

"""The plots' structure, read from their artists (and pixels): rows up to a few hundred calls,
bands past that with failed and slowest calls drawn on their own, a minimum running span,
result ticks that stay apart, one lane per worker, one colour and legend entry per job, the
reducer's row kept visible; the install hint without matplotlib; 100,000 calls in seconds."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plot_samples import synthetic_times
from wren.client.futures import futures_of
from wren.client.job import JobState
from wren.plots import KINDS, create_execution_plots
from wren.plots.data import CallTimes, collect
from wren.plots.histogram import draw_histogram
from wren.plots.lanes import draw_lanes
from wren.plots.layout import MIN_JOB_SHARE, ROW_LIMIT, TARGET_BANDS
from wren.plots.render import figure
from wren.plots.style import FAILED, JOB_COLOURS, min_span
from wren.plots.timeline import MAX_RESULT_TICKS, SLOWEST, draw_timeline
from wren.protocol.status import StatusDocument
from wren.protocol.task import JobKind


def _draw(draw: Any, times: CallTimes) -> Any:
    fig = figure()
    draw(fig, times)
    return fig.axes[0]


def _artist(ax: Any, gid: str) -> Any:
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def _boxes(ax: Any, gid: str) -> Any:
    """(x0, x1, y0, y1) of each rectangle of a collection."""
    paths = _artist(ax, gid).get_paths()
    vertices = np.array([p.vertices[:4] for p in paths])
    return np.column_stack([vertices[:, :, 0].min(1), vertices[:, :, 0].max(1),
                            vertices[:, :, 1].min(1), vertices[:, :, 1].max(1)])


def _legend(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_up_to_the_row_limit_each_call_is_a_row() -> None:
    times = synthetic_times(120, failed=(5,))
    ax = _draw(draw_timeline, times)
    running = _boxes(ax, "running")
    assert len(running) == times.size == 121
    assert len(_boxes(ax, "stage:waiting")) == 121
    assert _artist(ax, "running").get_facecolors()[5].tolist() == list(_rgba(FAILED))
    assert not [a for a in ax.get_children() if a.get_gid() in ("extent", "slowest")]


def test_past_the_row_limit_calls_are_banded_and_failures_drawn_alone() -> None:
    n = 20_000
    times = synthetic_times(n, workers=64, chunk=20, failed=(1234, 15_000))
    ax = _draw(draw_timeline, times)
    running = _boxes(ax, "running")
    assert TARGET_BANDS - 5 <= len(running) <= TARGET_BANDS + 5 < ROW_LIMIT < n
    assert len(_artist(ax, "extent").get_segments()) == len(running)
    failed = _artist(ax, "failed").get_segments()
    assert len(failed) == 2
    (x0, y), (x1, _) = failed[0]
    starts = times.columns["worker_func_start_tstamp"]
    ends = times.columns["worker_func_end_tstamp"]
    assert x0 <= starts[1234] and x1 >= ends[1234]
    band = running[(running[:, 2] <= y) & (running[:, 3] >= y)]
    assert len(band) == 1, "the failed call sits inside its own band's rows"
    assert len(_artist(ax, "failed-marks").get_offsets()) == 2
    slowest = _artist(ax, "slowest").get_segments()
    assert len(slowest) == SLOWEST
    durations = np.sort(np.where(times.success, ends - starts, -1))[-SLOWEST:]
    assert min(s[1][0] - s[0][0] for s in slowest) >= durations[0] - 1e-9
    assert any("slowest" in text for text in _legend(ax))


def test_calls_shorter_than_a_millisecond_still_show() -> None:
    times = synthetic_times(60)
    ends, starts = (times.columns[k] for k in ("worker_func_end_tstamp",
                                               "worker_func_start_tstamp"))
    assert (ends - starts)[3] < 0.001
    least = min_span(times)
    running = _boxes(_draw(draw_timeline, times), "running")
    assert (running[:, 1] - running[:, 0]).min() >= least * 0.999
    assert least >= times.end / 1000, "about 3 pixels of the time axis"


def test_result_ticks_are_grouped_and_never_touch() -> None:
    for n in (40, 3_000):
        times = synthetic_times(n)
        ticks = _artist(_draw(draw_timeline, times), "results").get_segments()
        assert len(ticks) <= MAX_RESULT_TICKS + len(times.jobs)
        spans = sorted((min(a[1], b[1]), max(a[1], b[1])) for a, b in ticks)
        assert all(top < next_bottom for (_, top), (next_bottom, _) in zip(spans, spans[1:]))


def test_the_reducer_keeps_a_visible_row() -> None:
    times = synthetic_times(10_000, workers=32, chunk=10)
    ax = _draw(draw_timeline, times)
    running = _boxes(ax, "running")
    total = abs(ax.get_ylim()[0] - ax.get_ylim()[1])
    reducer = running[-1]
    assert reducer[3] - reducer[2] >= 0.7 * MIN_JOB_SHARE * total
    assert "R001" in [t.get_text() for t in ax.texts]


def test_each_job_has_its_colour_and_legend_entry() -> None:
    times = synthetic_times(900, jobs=3)
    for draw in (draw_timeline, draw_histogram, draw_lanes):
        ax = _draw(draw, times)
        legend = _legend(ax)
        for job_id in ("M000", "M001", "M002", "R003"):
            assert any(f"job {job_id}" in text for text in legend), (draw, legend)
    colours = {tuple(c) for c in _artist(_draw(draw_timeline, times), "running")
               .get_facecolors().round(3)}
    assert {tuple(np.round(_rgba(c), 3)) for c in JOB_COLOURS[:4]} <= colours


def test_the_workers_view_has_a_lane_per_worker() -> None:
    times = synthetic_times(300, workers=6, chunk=5, failed=(42,))
    ax = _draw(draw_lanes, times)
    assert len(ax.get_yticklabels()) == 6
    assert {t.get_text() for t in ax.get_yticklabels()} == set(times.workers)
    calls = _boxes(ax, "calls")
    assert len(calls) == times.size
    assert sorted({round(y0 - 0.2) for y0 in calls[:, 2]}) == list(range(6))
    tasks = _boxes(ax, "tasks")
    assert len(tasks) == 300 // 5 + 1  # every task, and the reducer's
    assert len(_boxes(ax, "failed")) == 1 and "6 workers" in ax.get_title(loc="left")


def test_pixels_show_a_failure_among_fifty_thousand_calls() -> None:
    times = synthetic_times(50_000, workers=128, chunk=40, failed=(31_337,))
    fig = figure()
    draw_timeline(fig, times)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    ax = fig.axes[0]
    (_, y), _ = _artist(ax, "failed").get_segments()[0]
    assert y == pytest.approx(_row_y(times, 31_337), rel=1e-6)
    px, py = ax.transData.transform(_artist(ax, "failed-marks").get_offsets()[0])
    row = pixels.shape[0] - round(py)
    patch = pixels[row - 3:row + 4, int(px) - 3:int(px) + 4].reshape(-1, 3)
    red = (patch[:, 0] > 180) & (patch[:, 1] < 90) & (patch[:, 2] < 90)
    assert red.sum() >= 5, patch
    elsewhere = pixels[row - 3:row + 4, int(px) + 60:int(px) + 67].reshape(-1, 3)
    assert not ((elsewhere[:, 0] > 180) & (elsewhere[:, 1] < 90)).any()


def _row_y(times: CallTimes, row: int) -> float:
    from wren.plots.layout import layout

    return float(layout(times).row_y(np.array([row]))[0])


def _rgba(colour: str) -> tuple[float, ...]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour)


def _job(n: int, per_task: int = 100) -> JobState:
    """A finished 100,000-call job as the client holds it (statuses applied, results read)."""
    job = JobState(None, "abc123-0", JobKind.MAP, 0, n)  # type: ignore[arg-type]
    job.submitted_at = 1000.0
    for task, first in enumerate(range(0, n, per_task)):
        calls = range(first, min(first + per_task, n))
        start = 1000.5 + task * 0.01
        doc = StatusDocument(job.job_key, f"t{task}", 0, None,
                             {"start": start, "host": f"h{task % 50}", "pid": 7,
                              "end": start + 1})
        doc.indices = calls
        doc.func_start = [start + 0.001 * k for k in range(len(calls))]
        doc.func_end = [s + 0.0008 for s in doc.func_start]
        if task == 3:
            doc.errors[0] = {"type": "ValueError", "message": "x", "traceback": "",
                             "kind": "exception"}
        job.apply(doc)
        job.arrivals[doc.name] = start + 1.2
        job.result_times[doc.name] = start + 1.3
    return job


def test_a_hundred_thousand_calls_plot_in_seconds(tmp_path: Path) -> None:
    job = _job(100_000)
    futures = futures_of(job)
    began = time.process_time()
    times = collect(futures)
    assert times.size == 100_000 and not times.success[300] and times.success.sum() == 99_999
    assert len(times.workers) == 50
    paths = create_execution_plots(tmp_path, "big", futures)
    spent = time.process_time() - began
    assert [Path(p).name for p in paths] == [f"big_{kind}.png" for kind in KINDS]
    assert spent < 15, f"{spent:.1f} s of CPU for 100,000 calls"


def test_without_matplotlib_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # as if it were not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'wren-core\[plots\]'") as caught:
        create_execution_plots(tmp_path, "none", [])
    assert "numpy" in str(caught.value) and caught.value.name == "numpy"


def test_many_small_jobs_are_banded_across_jobs() -> None:
    times = synthetic_times(3_000, workers=16, chunk=1, jobs=3_000, reducer=False)
    ax = _draw(draw_timeline, times)
    assert len(_boxes(ax, "running")) <= TARGET_BANDS + 1
    assert not ax.texts and "3,000 jobs" in ax.get_title(loc="left")
    legend = _legend(ax)
    assert "... and 2992 more jobs" in legend
    histogram = _draw(draw_histogram, times)
    assert len(_legend(histogram)) == 8 + 1  # 7 jobs, the rest together, calls finished

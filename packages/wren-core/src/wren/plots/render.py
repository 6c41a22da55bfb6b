"""`create_execution_plots`: write the timeline, the histogram and the workers view of some
calls as PNGs.

matplotlib (with numpy) is optional: the `plots` extra, `pip install 'wren-core[plots]'`;
without it plotting fails at once with a `ModuleNotFoundError` that names the extra. Each
figure is a plain `Figure` drawn by the Agg canvas, without pyplot: plotting never opens a
window, needs no display, and never changes the backend a user's own pyplot code has chosen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from wren.client.futures import ResponseFuture
from wren.plots.data import CallTimes, collect

FIGSIZE = (12.0, 6.75)
DPI = 150
#: The plot kinds, in the order their files are written and returned.
KINDS = ("timeline", "histogram", "workers")
INSTALL_HINT = "pip install 'wren-core[plots]'"


def require_plotting() -> None:
    """Raise a `ModuleNotFoundError` naming the extra to install when matplotlib or numpy
    is missing."""
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "matplotlib"
        raise ModuleNotFoundError(
            f"wren's plots need matplotlib and numpy ({missing} is not installed here): "
            f"{INSTALL_HINT}", name=missing) from exc


def figure(figsize: tuple[float, float] = FIGSIZE) -> Any:
    """A plain Agg figure (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def drawers() -> dict[str, Callable[[Any, CallTimes], None]]:
    from wren.plots.histogram import draw_histogram
    from wren.plots.lanes import draw_lanes
    from wren.plots.timeline import draw_timeline

    return {"timeline": draw_timeline, "histogram": draw_histogram, "workers": draw_lanes}


def create_execution_plots(dst_dir: str | os.PathLike[str], dst_name: str,
                           futures: Sequence[ResponseFuture],
                           figsize: tuple[float, float] | None = None) -> tuple[str, ...]:
    """Write `<dst_dir>/<dst_name>_timeline.png`, `..._histogram.png` and
    `..._workers.png`; return their paths in that order.

    Only finished calls are drawn; times are seconds from the earliest submission among them.
    """
    require_plotting()
    times = collect(futures)
    os.makedirs(dst_dir, exist_ok=True)
    paths = []
    for kind, draw in drawers().items():
        path = os.path.join(dst_dir, f"{dst_name}_{kind}.png")
        fig = figure(figsize or FIGSIZE)
        draw(fig, times)
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    return tuple(paths)

"""`create_execution_plots`: write the timeline and the histogram of some calls as PNGs.

matplotlib is optional (`pip install 'wren-core[plots]'`) and used without pyplot: each
figure is a plain `Figure` drawn by the Agg canvas, so plotting never opens a window, needs
no display, and never changes the backend a user's own pyplot code has chosen.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from wren._errors import WrenError
from wren.client.futures import ResponseFuture
from wren.plots.data import collect
from wren.plots.histogram import draw_histogram
from wren.plots.timeline import draw_timeline

FIGSIZE = (12.0, 6.75)
DPI = 150


def _figure() -> object:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise WrenError("plots need matplotlib: pip install 'wren-core[plots]'") from exc
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def create_execution_plots(dst_dir: str | os.PathLike[str], dst_name: str,
                           futures: Sequence[ResponseFuture]) -> tuple[str, str]:
    """Write `<dst_dir>/<dst_name>_timeline.png` and `..._histogram.png`; return both paths.

    Only finished calls are drawn; times are seconds from the earliest submission among them.
    """
    times = collect(futures)
    os.makedirs(dst_dir, exist_ok=True)
    paths = (os.path.join(dst_dir, f"{dst_name}_timeline.png"),
             os.path.join(dst_dir, f"{dst_name}_histogram.png"))
    for path, draw in zip(paths, (draw_timeline, draw_histogram), strict=True):
        fig = _figure()
        draw(fig, times)
        fig.savefig(path, dpi=DPI)  # type: ignore[attr-defined]
    return paths

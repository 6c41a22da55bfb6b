"""Execution plots: a timeline of every call (bands of calls past a few hundred), a
histogram of calls running over time and a view of the calls on each worker, drawn with
matplotlib (the `plots` extra) without a display."""

from wren.plots.render import KINDS, create_execution_plots

__all__ = ["KINDS", "create_execution_plots"]

"""Execution plots: a timeline of every call and a histogram of calls running over time,
drawn with matplotlib (the `plots` extra) without a display."""

from wren.plots.render import create_execution_plots

__all__ = ["create_execution_plots"]

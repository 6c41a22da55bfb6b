"""Drop-in replacements for the standard library's `concurrent` package, running on wren.

`wren.concurrent.futures` offers the `concurrent.futures` interface (executors, futures,
`wait`, `as_completed`) with every call run by a `wren.FunctionExecutor`, so a program
written for the standard library moves to any wren backend by changing its import line.
"""

"""The executor names PyWren-IBM and Lithops users already type.

Each alias is `FunctionExecutor` with the backend fixed; everything else (config, runtime,
overrides) passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from wren.executor import FunctionExecutor


def function_executor(**kwargs: Any) -> FunctionExecutor:
    """`FunctionExecutor(**kwargs)` under the PyWren-IBM name."""
    return FunctionExecutor(**kwargs)


def knative_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on Knative Serving: `knative` compute (install wren-backend-knative)."""
    return FunctionExecutor(backend="knative", **kwargs)


def local_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on this machine: `localhost` compute (and `localhost` storage unless
    another storage is given)."""
    kwargs.setdefault("storage", "localhost")
    return FunctionExecutor(backend="localhost", **kwargs)

"""The executor names PyWren-IBM and Lithops users already type.

Each alias is `FunctionExecutor` with the backend fixed; everything else (config, runtime,
overrides) passes through unchanged. `docker_executor` runs the `localhost` worker pool in a
container started from a runtime image; the runtime `default` stands for the localhost
backend's image for this Python version.
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


def ibm_cf_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on IBM Cloud Functions: `ibm_cf` compute (and `ibm_cos` storage unless
    another storage is given). Needs `pip install wren-backend-ibmcf`."""
    kwargs.setdefault("storage", "ibm_cos")
    return FunctionExecutor(backend="ibm_cf", **kwargs)


def docker_executor(runtime: str | None = None, **kwargs: Any) -> FunctionExecutor:
    """An executor whose workers run in a container on this machine: `localhost` compute with
    the runtime image `runtime` (default: the `localhost` section's `runtime`, else the
    image `default` stands for), and `localhost` storage unless another is given."""
    kwargs.setdefault("storage", "localhost")
    if runtime is None:
        from wren.config.loader import load_config

        configured = load_config(kwargs.get("config"), backend="localhost",
                                 storage=kwargs["storage"]).compute.get("runtime")
        runtime = configured or "default"
    return FunctionExecutor(backend="localhost", runtime=runtime, **kwargs)

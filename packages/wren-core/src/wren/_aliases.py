"""The executor names PyWren-IBM and Lithops users already type.

Each alias is `FunctionExecutor` with the backend (or Lithops' mode) fixed; everything else
(config, runtime, Lithops' keywords) passes through unchanged. `docker_executor` runs the
`localhost` worker pool in a container started from a runtime image; the runtime `default`
stands for the localhost backend's image for this Python version. `StandaloneExecutor`
exists only to say what to use instead: wren has no virtual-machine mode.
"""

from __future__ import annotations

from typing import Any

from wren._errors import InvalidInputError
from wren.client.keywords import standalone_refusal
from wren.executor import FunctionExecutor


def _default_storage(kwargs: dict[str, Any], storage: str) -> None:
    """Use `storage` unless the caller named one (`storage_backend` is PyWren's name)."""
    if kwargs.get("storage") is None and kwargs.get("storage_backend") is None:
        kwargs["storage"] = storage


def _fixed(what: str, kwargs: dict[str, Any], *names: str) -> None:
    for name in names:
        if kwargs.get(name) is not None:
            raise InvalidInputError(f"{what} takes no {name}=: use FunctionExecutor({name}=...)")


def function_executor(**kwargs: Any) -> FunctionExecutor:
    """`FunctionExecutor(**kwargs)` under the PyWren-IBM name."""
    return FunctionExecutor(**kwargs)


def knative_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on Knative Serving: `knative` compute (install wren-backend-knative)."""
    return FunctionExecutor(backend="knative", **kwargs)


def local_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on this machine: `localhost` compute (and `localhost` storage unless
    another storage is given)."""
    _default_storage(kwargs, "localhost")
    return FunctionExecutor(backend="localhost", **kwargs)


def ibm_cf_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on IBM Cloud Functions: `ibm_cf` compute (and `ibm_cos` storage unless
    another storage is given). Needs `pip install wren-backend-ibmcf`."""
    _default_storage(kwargs, "ibm_cos")
    return FunctionExecutor(backend="ibm_cf", **kwargs)


def docker_executor(runtime: str | None = None, **kwargs: Any) -> FunctionExecutor:
    """An executor whose workers run in a container on this machine: `localhost` compute with
    the runtime image `runtime` (default: the `localhost` section's `runtime`, else the
    image `default` stands for), and `localhost` storage unless another is given."""
    _default_storage(kwargs, "localhost")
    if runtime is None:
        from wren.config.loader import load_config

        configured = load_config(kwargs.get("config"), backend="localhost",
                                 storage=kwargs.get("storage") or kwargs["storage_backend"]
                                 ).compute.get("runtime")
        runtime = configured or "default"
    return FunctionExecutor(backend="localhost", runtime=runtime, **kwargs)


def openwhisk_executor(**kwargs: Any) -> FunctionExecutor:
    """An executor on Apache OpenWhisk: `openwhisk` compute (install wren-backend-ibmcf)."""
    return FunctionExecutor(backend="openwhisk", **kwargs)


def LocalhostExecutor(**kwargs: Any) -> FunctionExecutor:
    """Lithops' `LocalhostExecutor`: `localhost` compute, and `localhost` storage unless
    another storage is given."""
    _fixed("LocalhostExecutor", kwargs, "backend", "compute_backend", "mode", "type")
    return local_executor(**kwargs)


def ServerlessExecutor(**kwargs: Any) -> FunctionExecutor:
    """Lithops' `ServerlessExecutor`: the configured (or given) compute backend, which must
    not be one that runs on this machine."""
    _fixed("ServerlessExecutor", kwargs, "mode", "type")
    return FunctionExecutor(mode="serverless", **kwargs)


def StandaloneExecutor(*args: Any, **kwargs: Any) -> FunctionExecutor:
    """Lithops' `StandaloneExecutor` (virtual machines): always refused, naming what to use."""
    raise standalone_refusal("StandaloneExecutor")

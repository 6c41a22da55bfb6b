"""wren: run ordinary Python functions at massive scale, with the PyWren/Lithops API.

`FunctionExecutor` is the entry point; with no configuration it runs on this machine
(`localhost` compute and storage). `Storage` and `CloudObject` reach the data in storage.
Adapters for other platforms are separate distributions found through entry points.
"""

from typing import TYPE_CHECKING

from wren.__about__ import __version__
from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import (
    BackendNotFoundError,
    ConfigError,
    FunctionTimeoutError,
    InvalidInputError,
    MalformedDocumentError,
    MonitoringError,
    NotSupportedError,
    ProtocolVersionError,
    RemoteBaseException,
    RemoteError,
    RemoteTraceback,
    RuntimeMismatchError,
    SerializationError,
    StorageError,
    StorageNoSuchKeyError,
    TamperedDataError,
    WaitTimeoutError,
    WorkerLostError,
    WrenError,
)
from wren._lazy import lazy_exports

# `wren.wait` is the function, as `lithops.wait` is; the module of the same name stays
# importable (`from wren.wait import ALL_COMPLETED`). It imports the executor only when called.
from wren.wait import get_result, wait

if TYPE_CHECKING:
    from wren._aliases import (
        LocalhostExecutor,
        ServerlessExecutor,
        StandaloneExecutor,
        docker_executor,
        function_executor,
        ibm_cf_executor,
        knative_executor,
        local_executor,
        openwhisk_executor,
    )
    from wren.client.futures import ResponseFuture
    from wren.executor import FunctionExecutor
    from wren.retries import RetryingFunctionExecutor, RetryingFuture
    from wren.storage_api import CloudObject, Storage

# The executor stack is imported on first use (PEP 562), so a worker that imports
# `wren.worker` does not pay for the client side.
_LAZY = {
    "CloudObject": "wren.storage_api",
    "FunctionExecutor": "wren.executor",
    "LocalhostExecutor": "wren._aliases",
    "ResponseFuture": "wren.client.futures",
    "RetryingFunctionExecutor": "wren.retries",
    "RetryingFuture": "wren.retries",
    "ServerlessExecutor": "wren._aliases",
    "StandaloneExecutor": "wren._aliases",
    "Storage": "wren.storage_api",
    "docker_executor": "wren._aliases",
    "function_executor": "wren._aliases",
    "ibm_cf_executor": "wren._aliases",
    "knative_executor": "wren._aliases",
    "local_executor": "wren._aliases",
    "openwhisk_executor": "wren._aliases",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "ALL_COMPLETED",
    "ALWAYS",
    "ANY_COMPLETED",
    "BackendNotFoundError",
    "CloudObject",
    "ConfigError",
    "FunctionExecutor",
    "FunctionTimeoutError",
    "InvalidInputError",
    "LocalhostExecutor",
    "MalformedDocumentError",
    "MonitoringError",
    "NotSupportedError",
    "ProtocolVersionError",
    "RemoteBaseException",
    "RemoteError",
    "RemoteTraceback",
    "ResponseFuture",
    "RetryingFunctionExecutor",
    "RetryingFuture",
    "RuntimeMismatchError",
    "SerializationError",
    "ServerlessExecutor",
    "StandaloneExecutor",
    "Storage",
    "StorageError",
    "StorageNoSuchKeyError",
    "TamperedDataError",
    "WaitTimeoutError",
    "WorkerLostError",
    "WrenError",
    "__version__",
    "docker_executor",
    "function_executor",
    "get_result",
    "ibm_cf_executor",
    "knative_executor",
    "local_executor",
    "openwhisk_executor",
    "wait",
]

"""wren: run ordinary Python functions at massive scale, with the PyWren/Lithops API.

`FunctionExecutor` is the entry point; with no configuration it runs on this machine
(`localhost` compute and storage). Adapters for other platforms are separate distributions
found through entry points.
"""

from wren.__about__ import __version__
from wren._aliases import docker_executor, function_executor, local_executor
from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED
from wren._errors import (
    BackendNotFoundError,
    ConfigError,
    FunctionTimeoutError,
    InvalidInputError,
    NotSupportedError,
    RemoteError,
    RemoteTraceback,
    RuntimeMismatchError,
    SerializationError,
    StorageError,
    StorageNoSuchKeyError,
    WaitTimeoutError,
    WorkerLostError,
    WrenError,
)
from wren.client.futures import ResponseFuture
from wren.executor import FunctionExecutor

__all__ = [
    "ALL_COMPLETED",
    "ALWAYS",
    "ANY_COMPLETED",
    "BackendNotFoundError",
    "ConfigError",
    "FunctionExecutor",
    "FunctionTimeoutError",
    "InvalidInputError",
    "NotSupportedError",
    "RemoteError",
    "RemoteTraceback",
    "ResponseFuture",
    "RuntimeMismatchError",
    "SerializationError",
    "StorageError",
    "StorageNoSuchKeyError",
    "WaitTimeoutError",
    "WorkerLostError",
    "WrenError",
    "__version__",
    "docker_executor",
    "function_executor",
    "local_executor",
]

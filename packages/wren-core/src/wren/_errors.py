"""Every exception wren raises on purpose, in one place, so callers can catch precisely.

Each error message names the problem and, where there is one, the fix. The classes form a
small tree under `WrenError`; a few also derive from the built-in they specialise
(`StorageNoSuchKeyError` is a `KeyError`, `WaitTimeoutError` a `TimeoutError`) so code
written against the standard library keeps working.
"""

from __future__ import annotations


class WrenError(Exception):
    """Base class of every error wren raises on purpose."""


class ConfigError(WrenError, ValueError):
    """The configuration is invalid: an unknown key, a wrong type or a bad value."""


class BackendNotFoundError(WrenError, LookupError):
    """No installed adapter answers to the requested backend name."""


class NotSupportedError(WrenError, NotImplementedError):
    """The backend does not offer an optional operation."""

    def __init__(self, operation: str, backend: str, hint: str = "") -> None:
        message = f"{operation} is not supported by backend {backend!r}"
        super().__init__(f"{message}. {hint}" if hint else message)
        self.operation = operation
        self.backend = backend


class SerializationError(WrenError, TypeError):
    """A function, argument or result cannot be pickled or unpickled."""


class InvalidInputError(WrenError, ValueError):
    """The arguments of a call do not fit the function, or an option has a bad value."""


class StorageError(WrenError):
    """A storage backend failed in a way the caller may want to handle."""


class StorageNoSuchKeyError(StorageError, KeyError):
    """The object does not exist."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"no object {key!r} in bucket {bucket!r}")
        self.bucket = bucket
        self.key = key

    def __str__(self) -> str:  # KeyError would quote the whole message again
        return str(self.args[0])


class RuntimeMismatchError(WrenError):
    """The runtime that would run the functions cannot run what this client sends."""


class ProtocolVersionError(RuntimeMismatchError):
    """Two sides of a job (client, runtime, storage contents) speak different protocols."""


class MalformedDocumentError(WrenError, ValueError):
    """An object read from storage, a queue or the network is not one wren wrote."""


class TamperedDataError(WrenError):
    """An object read from storage failed its authentication: it was changed, replaced or
    moved by someone who does not hold this executor's key. Nothing in it was loaded."""

    def __init__(self, key: str, detail: str = "") -> None:
        why = detail or "its signature does not match"
        super().__init__(
            f"the object {key!r} is not what wren wrote there ({why}): someone with write "
            "access to the storage changed or replaced it, so wren refused to load it. Check "
            "who can write the bucket, then run the job again")
        self.key, self.detail = key, detail

    def __reduce__(self) -> tuple[type[TamperedDataError], tuple[str, str]]:
        return type(self), (self.key, self.detail)


class WorkerLostError(WrenError):
    """A call did not finish because its worker died, was killed or timed out."""


class FunctionTimeoutError(WrenError, TimeoutError):
    """A call ran longer than its timeout."""


class WaitTimeoutError(WrenError, TimeoutError):
    """`wait` or `get_result` gave up before the calls finished."""


class MonitoringError(WrenError, ConnectionError):
    """The chosen job monitor cannot work: e.g. its RabbitMQ broker is unreachable."""


class RemoteError(WrenError):
    """A function failed remotely with an exception that cannot be rebuilt on the client.

    The remote type name and message are kept; the remote traceback is the cause.
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.remote_message = message


class RemoteBaseException(RemoteError):
    """The function raised a `BaseException` that is not an `Exception` (`SystemExit`,
    `KeyboardInterrupt`, ...). It arrives as data on its future: a failed call never exits
    or interrupts the client."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(type_name, message or "(no message)")
        self.args = (f"the function raised {type_name}({message}); wren reports it as an "
                     "error of this call instead of letting it stop the client",)


class RemoteTraceback(Exception):
    """Carries the traceback text of a remote exception; set as its `__cause__`.

    `where` names the call ("remote call 00003 of job ... on localhost, worker host h pid 7"); it
    is printed in place of the worker's own frames, which are left out: everything below
    that line ran in the user's code, remotely."""

    _HEADER = "Traceback (most recent call last):\n"

    def __init__(self, traceback_text: str, where: str = "") -> None:
        super().__init__(traceback_text)
        self.traceback_text = traceback_text
        self.where = where

    def __reduce__(self) -> tuple[type[RemoteTraceback], tuple[str, str]]:
        return type(self), (self.traceback_text, self.where)

    def __str__(self) -> str:
        text = self.traceback_text
        if text.startswith(self._HEADER):
            text = text[len(self._HEADER):]
        marker = f"  --- {self.where or 'remote call'}; wren's own frames left out ---\n"
        return "\nRemote traceback (most recent call last):\n" + marker + text

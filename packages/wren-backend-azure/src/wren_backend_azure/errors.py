"""Turn the Azure SDK's failures into wren's `StorageError`, naming the endpoint.

A request that could not reach the service (refused, timed out, reset) or that the service
kept failing after the retry policy gave up becomes a `StorageError` saying which operation
on which object failed at which endpoint, and what to check; the SDK's exception is its
cause. Missing blobs and containers are handled by the callers before this (they mean
something: `StorageNoSuchKeyError`, create the container).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from wren import StorageError


def public_endpoint(url: str) -> str:
    """`url` without its query (a SAS token) or user info: safe to show in a message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def translate(exc: Exception, operation: str, where: str, endpoint: str) -> Exception:
    """The wren error for an exception of the SDK (returned, for the caller to raise)."""
    from azure.core.exceptions import (
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return StorageError(
            f"{operation} {where} failed: cannot reach the Azure storage endpoint {endpoint} "
            f"({type(exc).__name__}: {_first_line(exc)}); check `connection_string` (or "
            "`storage_account_name`) in the `azure_storage` config section and that the "
            "service is up")
    if isinstance(exc, HttpResponseError):
        code = getattr(exc, "error_code", None) or getattr(exc, "status_code", None)
        return StorageError(f"{operation} {where} failed at the Azure storage endpoint "
                            f"{endpoint}: {code}: {_first_line(exc)}")
    return exc


@contextlib.contextmanager
def translated(operation: str, where: str, endpoint: str) -> Iterator[None]:
    """Raise the SDK's failures inside the block as `translate` says."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        error = translate(exc, operation, where, endpoint)
        if error is exc:
            raise
        raise error from exc


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__

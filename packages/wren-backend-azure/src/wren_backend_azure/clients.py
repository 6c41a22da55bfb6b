"""Azure Storage clients (Blob and Queue) built from one `azure_storage` config section.

Credentials come from a connection string or from account name + key; either way the same
account serves the blob containers and the queues that feed `azure_containers`. Every client
shares a connection pool sized for the threads that use it and retries transient failures
(connection errors, 408/429/5xx) with exponential backoff through the SDK's retry policy.
`ensure_queue` and `delete_queue` create and remove a runtime's queue, tolerating races.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from wren import ConfigError

from wren_backend_azure.config import STORAGE_SCHEMA, STORAGE_SECTION

_POOL_SIZE = 64


def connection_string(config: Mapping[str, Any]) -> str:
    """The account's connection string, given or built from name and key."""
    given = config.get("connection_string")
    if given:
        return str(given)
    name, key = config.get("storage_account_name"), config.get("storage_account_key")
    if not name or not key:
        raise ConfigError(
            f"section {STORAGE_SECTION!r} needs `storage_account_name` and "
            "`storage_account_key`, or a `connection_string`; find them in the Azure portal "
            "under the storage account's 'Access keys'")
    return (f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={key};"
            "EndpointSuffix=core.windows.net")


def _transport() -> Any:
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=True)


def _options(config: Mapping[str, Any]) -> dict[str, Any]:
    retries = STORAGE_SCHEMA.validate(config)["retries"]
    return {"retry_total": retries, "retry_backoff_factor": 0.4,
            "connection_timeout": 20, "read_timeout": 120, "transport": _transport()}


def blob_service(config: Mapping[str, Any], chunk_size: int = 4 * 1024 * 1024) -> Any:
    """A `BlobServiceClient`; gets read the first `chunk_size` bytes in one request and the
    rest in chunks of that size, so a stream never holds more than a chunk."""
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(
        connection_string(config), max_single_get_size=chunk_size,
        max_chunk_get_size=chunk_size, max_single_put_size=8 * 1024 * 1024,
        max_block_size=8 * 1024 * 1024, **_options(config))


def queue_client(config: Mapping[str, Any], queue: str) -> Any:
    """A `QueueClient` for `queue` in the account of `config`."""
    from azure.storage.queue import QueueClient

    return QueueClient.from_connection_string(connection_string(config), queue,
                                              **_options(config))


def ensure_queue(queue: Any) -> None:
    """Create the queue unless it exists."""
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()


def delete_queue(queue: Any) -> None:
    """Delete the queue if it exists."""
    from azure.core.exceptions import ResourceNotFoundError

    with contextlib.suppress(ResourceNotFoundError):
        queue.delete_queue()

"""Azure Storage clients (Blob and Queue) built from one `azure_storage` config section.

Credentials come from a connection string or from account name + key (the endpoints then end
in `endpoint_suffix`, so sovereign clouds work); either way the same account serves the blob
containers and the queues that feed `azure_containers`. Every client shares a connection pool sized for the threads that use it and retries transient failures
(connection errors, 408/429/5xx) with exponential backoff through the storage SDK's own
`ExponentialRetry` (which ignores azure-core's `retry_backoff_factor`: its defaults wait 15 s
and more between attempts). Connection failures get at most `_CONNECT_RETRIES` retries, so a
dead endpoint fails within seconds; throttling and 5xx answers get `retries`.
`ensure_queue` and `delete_queue` create and remove a runtime's queue, tolerating races.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from wren import ConfigError

from wren_backend_azure.config import STORAGE_SCHEMA, STORAGE_SECTION

_POOL_SIZE = 64
#: Retries of a request that could not connect (the server never saw it).
_CONNECT_RETRIES = 2
#: The n-th retry (n >= 1) waits `_INITIAL_BACKOFF + _BACKOFF_BASE ** n` seconds.
_INITIAL_BACKOFF = 0.25
_BACKOFF_BASE = 1.5
_JITTER = 0.25


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
    suffix = config.get("endpoint_suffix") or _default_suffix()
    return (f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={key};"
            f"EndpointSuffix={suffix}")


def _default_suffix() -> str:
    key = STORAGE_SCHEMA.get("endpoint_suffix")
    assert key is not None
    return str(key.default)


def _transport() -> Any:
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=True)


def retry_policy(retries: int, policy_class: Any) -> Any:
    """An `ExponentialRetry` of the blob or queue SDK (`policy_class`): `retries` in all, at
    most `_CONNECT_RETRIES` of them after connection failures, waiting 1.75 s, 2.5 s, 3.6 s,
    5.3 s, ... (jittered) between attempts."""
    return policy_class(initial_backoff=_INITIAL_BACKOFF, increment_base=_BACKOFF_BASE,
                        retry_total=retries, retry_connect=min(retries, _CONNECT_RETRIES),
                        retry_read=min(retries, 3), retry_status=retries,
                        random_jitter_range=_JITTER)


def _options(config: Mapping[str, Any], policy_class: Any) -> dict[str, Any]:
    section = STORAGE_SCHEMA.validate(config)
    return {"retry_policy": retry_policy(section["retries"], policy_class),
            "connection_timeout": section["connect_timeout"],
            "read_timeout": section["read_timeout"], "transport": _transport()}


def blob_service(config: Mapping[str, Any], chunk_size: int = 4 * 1024 * 1024) -> Any:
    """A `BlobServiceClient`; gets read the first `chunk_size` bytes in one request and the
    rest in chunks of that size, so a stream never holds more than a chunk."""
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    return BlobServiceClient.from_connection_string(
        connection_string(config), max_single_get_size=chunk_size,
        max_chunk_get_size=chunk_size, max_single_put_size=8 * 1024 * 1024,
        max_block_size=8 * 1024 * 1024, **_options(config, ExponentialRetry))


def queue_client(config: Mapping[str, Any], queue: str) -> Any:
    """A `QueueClient` for `queue` in the account of `config`."""
    from azure.storage.queue import ExponentialRetry, QueueClient

    return QueueClient.from_connection_string(connection_string(config), queue,
                                              **_options(config, ExponentialRetry))


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

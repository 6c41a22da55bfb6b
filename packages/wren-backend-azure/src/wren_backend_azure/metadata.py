"""Where an `azure_containers` runtime's metadata travels: a blob the client names.

A consumer answers a `metadata` message by writing wren's runtime metadata document
(`wren.worker.handle` asked for `wren_runtime_info`) to the blob the message names; the
runtime keeps it under `wren.runtimes/azure_containers/<app>.json`, so the runtime is asked
once, not per client. Clients cache what they read with wren's one policy
(`wren.cache.RuntimeInfoCache`); deploying or deleting the runtime forgets both.
"""

from __future__ import annotations

import json

from wren.cache import RuntimeInfoCache
from wren.ports import WorkerStorage

PREFIX = "wren.runtimes/azure_containers/"

#: This process's cache of runtime metadata, shared by every `azure_containers` backend.
cache = RuntimeInfoCache()


def metadata_key(app: str) -> str:
    return f"{PREFIX}{app}.json"


def identity(app: str, bucket: str, storage: WorkerStorage) -> str:
    """The cache identity of an app's metadata: the app and where its blob lives."""
    return json.dumps([app, bucket, storage.backend, dict(storage.public_config)],
                      sort_keys=True, default=str)

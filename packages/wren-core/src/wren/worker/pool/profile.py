"""`Profile`: how a worker opens storage, and `storage_profile`, which makes one.

Kept apart from the worker-process machinery so a client that only talks to the user's pool
server (`client`) does not import what starting and watching workers needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["Profile", "storage_profile"]

#: `(profile id, storage backend, private storage config)`: how a worker opens storage.
Profile = tuple[str, str, dict[str, Any]]


def storage_profile(backend: str, config: Mapping[str, Any]) -> Profile:
    """The profile of a storage backend and its private config: its id is a digest of both,
    so workers are sent each distinct profile once and the config is never logged."""
    digest = hashlib.sha256(json.dumps([backend, dict(config)], sort_keys=True,
                                       default=str).encode()).hexdigest()
    return digest[:16], backend, dict(config)

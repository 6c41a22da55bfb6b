"""The ports of wren's hexagon: what an adapter implements to plug a platform in.

`ComputeBackend` and `StorageBackend` (plus `Serializer` and `Partitioner`) are registered
through the entry-point groups `wren.compute_backends` and `wren.storage_backends` (...), each
with a `name`, a `capabilities` set (`wren.ports.capabilities`) and a `config_schema` (a
compute section extends `wren.ports.compute_config.COMPUTE_SCHEMA`). The protocol objects an
adapter handles (`Invocation`, `Task`, `StatusDocument`, `RuntimeInfo`) are re-exported
here. The guide is docs/writing-a-backend.md.
"""

from typing import TYPE_CHECKING

from wren._lazy import lazy_exports
from wren.ports import capabilities

if TYPE_CHECKING:
    from wren.ports.compute import (
        ComputeBackend,
        InvocationListener,
        RuntimeEntry,
        RuntimeInfo,
        WorkerStorage,
    )
    from wren.ports.images import ImageBuilder, check_image_name, image_registry
    from wren.ports.partitioner import Partition, Partitioner, RangeOpener, RangeReader
    from wren.ports.runtime_verbs import ManagedRuntimes
    from wren.ports.serializer import Serializer
    from wren.ports.storage import Body, ObjectInfo, StorageBackend
    from wren.protocol.invocation import Invocation
    from wren.protocol.status import StatusDocument
    from wren.protocol.task import Task

__all__ = [
    "Body",
    "ComputeBackend",
    "ImageBuilder",
    "Invocation",
    "InvocationListener",
    "ManagedRuntimes",
    "ObjectInfo",
    "Partition",
    "Partitioner",
    "RangeOpener",
    "RangeReader",
    "RuntimeEntry",
    "RuntimeInfo",
    "Serializer",
    "StatusDocument",
    "StorageBackend",
    "Task",
    "WorkerStorage",
    "capabilities",
    "check_image_name",
    "image_registry",
]

# Imported on first use: a localhost job needs neither the partitioner nor the runtime verbs.
_LAZY = {
    "Body": ".storage", "ComputeBackend": ".compute", "ImageBuilder": ".images",
    "Invocation": "wren.protocol.invocation", "InvocationListener": ".compute",
    "ManagedRuntimes": ".runtime_verbs", "ObjectInfo": ".storage", "Partition": ".partitioner",
    "Partitioner": ".partitioner", "RangeOpener": ".partitioner", "RangeReader": ".partitioner",
    "RuntimeEntry": ".compute", "RuntimeInfo": ".compute", "Serializer": ".serializer",
    "StatusDocument": "wren.protocol.status", "StorageBackend": ".storage",
    "Task": "wren.protocol.task", "WorkerStorage": ".compute", "check_image_name": ".images",
    "image_registry": ".images",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

"""The ports of wren's hexagon: what an adapter implements to plug a platform in."""

from wren.ports import capabilities
from wren.ports.compute import (
    ComputeBackend,
    InvocationListener,
    RuntimeEntry,
    RuntimeInfo,
    WorkerStorage,
)
from wren.ports.partitioner import Partition, Partitioner, RangeOpener, RangeReader
from wren.ports.serializer import Serializer
from wren.ports.storage import Body, ObjectInfo, StorageBackend

__all__ = [
    "Body",
    "ComputeBackend",
    "InvocationListener",
    "ObjectInfo",
    "Partition",
    "Partitioner",
    "RangeOpener",
    "RangeReader",
    "RuntimeEntry",
    "RuntimeInfo",
    "Serializer",
    "StorageBackend",
    "WorkerStorage",
    "capabilities",
]

"""The ports of wren's hexagon: what an adapter implements to plug a platform in."""

from wren.ports import capabilities
from wren.ports.compute import (
    ComputeBackend,
    InvocationListener,
    RuntimeEntry,
    RuntimeInfo,
    WorkerStorage,
)
from wren.ports.images import ImageBuilder, check_image_name, image_registry
from wren.ports.partitioner import Partition, Partitioner, RangeOpener, RangeReader
from wren.ports.serializer import Serializer
from wren.ports.storage import Body, ObjectInfo, StorageBackend

__all__ = [
    "Body",
    "ComputeBackend",
    "ImageBuilder",
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
    "check_image_name",
    "image_registry",
]

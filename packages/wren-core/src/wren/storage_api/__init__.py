"""The Storage API for users and workers: `Storage` (a client over any storage backend) and
`CloudObject` (a picklable handle to an object that one map can return and the next can
take as input)."""

from wren.storage_api.cloudobject import CloudObject
from wren.storage_api.storage import Storage

__all__ = ["CloudObject", "Storage"]

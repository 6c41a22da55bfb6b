"""The `Serializer` port: turn functions, arguments and results into bytes and back.

Workers use the serializer named in the task, so a vendor serializer must be installed in the
runtime as well as on the client. wren serializes each task's arguments as one list and each
flush of results as one list, so `dumps` and `loads` are all an adapter needs to provide.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

from wren.ports._port import Port


class Serializer(Port, abc.ABC):
    """Port for serialization, registered in the `wren.serializers` entry-point group."""

    @abc.abstractmethod
    def dumps(self, obj: Any) -> bytes:
        """Serialize any object, including functions and classes defined in `__main__`."""

    @abc.abstractmethod
    def loads(self, data: bytes | memoryview) -> Any:
        """Rebuild an object from `dumps` output."""

    def dumps_function(self, func: Callable[..., Any]) -> bytes:
        """Serialize a function (by value where it cannot be imported remotely)."""
        return self.dumps(func)

"""The default serializer: cloudpickle for anything (functions, lambdas and classes defined
in `__main__` travel by value), pickle protocol 5, plain `pickle.loads` to read. Inside
`wren.serialize.out_of_band.offloading`, big buffers go beside the pickle."""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

import cloudpickle

from wren.ports.serializer import Serializer
from wren.serialize.out_of_band import current_put, dumps_out_of_band

PROTOCOL = 5


class CloudpickleSerializer(Serializer):
    """Serializer backed by cloudpickle (functions, lambdas and `__main__` classes by value)."""

    name: ClassVar[str] = "cloudpickle"

    def dumps(self, obj: Any) -> bytes:
        put = current_put()
        if put is not None:
            return dumps_out_of_band(obj, cloudpickle.Pickler, put, PROTOCOL)
        return cloudpickle.dumps(obj, protocol=PROTOCOL)

    def loads(self, data: bytes | memoryview) -> Any:
        return pickle.loads(data)

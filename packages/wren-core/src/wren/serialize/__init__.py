"""Serialization: the cloudpickle serializer and the shipping of user modules with functions."""

from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
from wren.serialize.function_blob import FunctionBlob, pack_function, unpack_function
from wren.serialize.modules import find_user_modules

__all__ = [
    "CloudpickleSerializer",
    "FunctionBlob",
    "find_user_modules",
    "pack_function",
    "unpack_function",
]

"""Serialization: the cloudpickle serializer and the shipping of user modules with functions."""

from typing import TYPE_CHECKING, Any

from wren.serialize.function_blob import FunctionBlob, pack_function, unpack_function

if TYPE_CHECKING:
    from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
    from wren.serialize.modules import find_user_modules

_LAZY = {"CloudpickleSerializer": "wren.serialize.cloudpickle_serializer",
         "find_user_modules": "wren.serialize.modules"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wren.serialize' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "CloudpickleSerializer",
    "FunctionBlob",
    "find_user_modules",
    "pack_function",
    "unpack_function",
]

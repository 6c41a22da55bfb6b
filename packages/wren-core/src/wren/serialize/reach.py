"""What a function reaches: the modules a worker must import to load and run it.

The function is pickled once more with cloudpickle into a sink that keeps nothing (large
buffers are taken out of band, so captured arrays cost no copy) while a `reducer_override`
hook watches every object the pickler meets. Whatever cloudpickle pickles *by reference* —
a function, class or instance of a class defined in an importable module, or a module held in
a global — is recorded by its module name: the worker imports those names while unpickling.
Whatever it pickles *by value* (functions of `__main__`, lambdas, closures) carries its code,
so that code's own `import` statements are recorded as `ImportRef`s, resolved by the caller
against the function's package. This is exact where it matters: globals, closures, default
arguments, methods of `__main__` classes and objects inside captured data are all found
because the pickler itself walks them, and nothing the function never touches is named.
The code objects carried by value are kept too, in the order met (the function's own first):
their source lines travel with the function (`wren.serialize.sources`).
"""

from __future__ import annotations

import io
import types
from collections.abc import Callable
from typing import Any

import cloudpickle

from wren.serialize.imports import ImportRef, code_imports

_PROTOCOL = 5


class Reach:
    """Modules a pickled function names (dotted), imports its by-value code runs as
    `(package, ref)` pairs, and that code itself. (A plain class: making a `NamedTuple`
    class costs every process's first job half a millisecond.)"""

    __slots__ = ("codes", "imports", "named")

    def __init__(self, named: frozenset[str], imports: frozenset[tuple[str, ImportRef]],
                 codes: tuple[types.CodeType, ...] = ()) -> None:
        self.named, self.imports, self.codes = named, imports, codes


class _Sink:
    def write(self, data: Any) -> int:
        return len(data)


class _RecordingPickler(cloudpickle.Pickler):
    def __init__(self, out: Any = None) -> None:
        if out is None:  # only watching: big buffers are neither kept nor copied
            super().__init__(_Sink(), protocol=_PROTOCOL, buffer_callback=lambda _: False)
        else:
            super().__init__(out, protocol=_PROTOCOL)
        self.named: set[str] = set()
        self.imports: set[tuple[str, ImportRef]] = set()
        self.codes: list[types.CodeType] = []

    def reducer_override(self, obj: Any) -> Any:
        reduced = super().reducer_override(obj)
        if isinstance(obj, types.ModuleType):
            self.named.add(obj.__name__)
        elif isinstance(obj, (types.FunctionType, type)):
            if reduced is NotImplemented:
                _add_module(self.named, getattr(obj, "__module__", None))
            elif isinstance(obj, types.FunctionType):
                package = obj.__globals__.get("__package__") or ""
                self.codes.append(obj.__code__)
                self.imports.update((package, ref) for ref in code_imports(obj.__code__))
        else:
            _add_module(self.named, getattr(type(obj), "__module__", None))
        return reduced


def _add_module(names: set[str], module: object) -> None:
    if isinstance(module, str) and module:
        names.add(module)


def reach(func: Callable[..., Any]) -> Reach:
    """Modules `func` reaches when pickled and run (see the module docstring)."""
    pickler = _RecordingPickler()
    pickler.dump(func)
    return _found(pickler)


def pickle_and_reach(func: Callable[..., Any]) -> tuple[bytes, Reach]:
    """`func` pickled as `cloudpickle.dumps(func, protocol=5)` pickles it (the same bytes:
    the hook only watches), with what it reaches, in one pass instead of two."""
    out = io.BytesIO()
    pickler = _RecordingPickler(out)
    pickler.dump(func)
    return out.getvalue(), _found(pickler)


def _found(pickler: _RecordingPickler) -> Reach:
    return Reach(frozenset(pickler.named), frozenset(pickler.imports), tuple(pickler.codes))

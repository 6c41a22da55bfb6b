"""Give a function loaded in a worker its source back, so its tracebacks show the user's code.

The code cloudpickle carried by value arrives named `<dynamic-code>`; `restore_sources` walks
what the function reaches (its code and the code nested in it, the functions in its closure,
globals and defaults, the methods of classes found there), gives each code object its
original file name from the `ShippedSources` of its blob, and registers the shipped lines
with `linecache` under that name, so `traceback` prints file, line and text as it would on
the client. Lines of a file that also exists here are laid over it (the shipped ones are what
ran). Registered entries carry no modification time, so `linecache.checkcache` keeps them.
The modules shipped in the blob's zip run from the worker's copy; `original_path` gives the
file they were read from on the client, which tracebacks name instead.
"""

from __future__ import annotations

import linecache
import logging
import os
import types
from typing import Any

from wren.serialize.sources import DYNAMIC_FILENAME, ShippedSources, code_key, nested_codes

logger = logging.getLogger("wren")

#: Objects looked at, at most, when walking what a function reaches.
_WALK_LIMIT = 10_000
#: Files of shipped modules as extracted here -> as they were named on the client.
_originals: dict[str, str] = {}


def restore_sources(func: Any, shipped: ShippedSources, module_dir: str | None = None
                    ) -> None:
    """Rename the by-value code `func` reaches to its original files and register the
    shipped lines with `linecache` (see the module docstring); remember the original files
    of the modules extracted in `module_dir`, for `original_path`."""
    if module_dir is not None:
        for arcname, original in shipped.modules.items():
            _originals[os.path.join(module_dir, *arcname.split("/"))] = original
    if not shipped:
        return
    try:
        _Renamer(shipped.codes).walk(func)
        register_lines(shipped)
    except Exception:  # a traceback without source must never cost the call itself
        logger.debug("could not restore the sources of %r", func, exc_info=True)


def original_path(filename: str) -> str:
    """The client's name of a shipped module's file extracted here as `filename`."""
    return _originals.get(filename, filename)


def register_lines(shipped: ShippedSources) -> None:
    """Put the shipped lines in `linecache` (again, should something have cleared it)."""
    for filename, lines in shipped.files.items():
        entry = linecache.cache.get(filename)
        if entry is not None and len(entry) == 4 and entry[1] is None \
                and all(n <= len(entry[2]) and entry[2][n - 1] == text + "\n"
                        for n, text in lines.items()):
            continue  # registered already
        here = linecache.getlines(filename)
        merged = list(here) + ["\n"] * max(0, max(lines) - len(here))
        for number, text in lines.items():
            merged[number - 1] = text + "\n"
        linecache.cache[filename] = (sum(map(len, merged)), None, merged, filename)


class _Renamer:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.renamed: dict[int, types.CodeType] = {}
        self.seen: set[int] = set()

    def code(self, code: types.CodeType) -> types.CodeType:
        done = self.renamed.get(id(code))
        if done is not None:
            return done
        consts = tuple(self.code(c) if isinstance(c, types.CodeType) else c
                       for c in code.co_consts)
        name = self.names.get(code_key(code)) if code.co_filename == DYNAMIC_FILENAME \
            else None
        new = code
        if name is not None or consts != code.co_consts:
            new = code.replace(co_filename=name or code.co_filename, co_consts=consts)
        self.renamed[id(code)] = new
        return new

    def walk(self, root: Any) -> None:
        stack = [root]
        while stack and len(self.seen) < _WALK_LIMIT:
            obj = stack.pop()
            if id(obj) in self.seen:
                continue
            self.seen.add(id(obj))
            if isinstance(obj, types.FunctionType):
                if obj.__code__.co_filename != DYNAMIC_FILENAME:
                    continue  # loaded by reference: its module is here, and its source
                names = {n for c in nested_codes(obj.__code__) for n in c.co_names}
                obj.__code__ = self.code(obj.__code__)
                stack.extend(cell.cell_contents for cell in obj.__closure__ or ()
                             if _filled(cell))
                stack.extend(v for k, v in obj.__globals__.items() if k in names)
                stack.extend(obj.__defaults__ or ())
                stack.extend((obj.__kwdefaults__ or {}).values())
            elif isinstance(obj, type):
                stack.extend(vars(obj).values())
            elif isinstance(obj, (staticmethod, classmethod, types.MethodType)):
                stack.append(obj.__func__)
            elif isinstance(obj, property):
                stack.extend(f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
            elif hasattr(obj, "func") and callable(obj):  # functools.partial and the like
                stack.append(obj.func)
            elif callable(obj):  # an instance whose class has a __call__, and its fields
                stack.append(type(obj))
                stack.extend(getattr(obj, "__dict__", {}).values())
                stack.extend(getattr(obj, name) for name in _slots(type(obj))
                             if hasattr(obj, name))


def _filled(cell: types.CellType) -> bool:
    try:
        return cell.cell_contents is not _filled
    except ValueError:  # an empty cell
        return False


def _slots(cls: type) -> list[str]:
    names = [getattr(c, "__slots__", ()) for c in cls.__mro__]
    return [n for group in names for n in ([group] if isinstance(group, str) else group)]

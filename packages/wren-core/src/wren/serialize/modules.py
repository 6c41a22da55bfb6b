"""Find the user's own modules that a function needs, and zip them for shipping.

A function pickled by reference (`mymod.f`) only loads where `mymod` can be imported. wren
ships the modules that belong to the user, not to Python or an installed distribution: it
walks the function's globals, closures and referenced functions and classes, then the import
statements of every user module it meets (and of the `__main__` script), and zips each
top-level module or package it finds. The zip is deterministic, so the same sources give the
same content hash and are uploaded once.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import io
import logging
import os
import site
import sys
import sysconfig
import types
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger("wren")

_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules"}


@functools.cache
def _system_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    roots.update(getattr(site, "getsitepackages", list)())
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        roots.add(user_site)
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


@functools.cache
def _distribution_modules() -> frozenset[str]:
    from importlib.metadata import packages_distributions

    try:
        return frozenset(packages_distributions())
    except Exception:  # a broken distribution must not stop a job
        return frozenset()


def module_path(name: str) -> Path | None:
    """The file (or package directory) a top-level module is loaded from, if any."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        origin = spec.origin if spec.has_location else None
        if origin is None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
    if origin is None:
        return None
    path = Path(origin)
    return path.parent if path.name == "__init__.py" else path


def is_user_module(name: str) -> bool:
    """True for a top-level module that belongs to the user, not Python or a distribution."""
    if (name in sys.builtin_module_names or name in getattr(sys, "stdlib_module_names", ())
            or name in ("wren", "wren_cli", "__main__") or name.startswith("wren_backend_")):
        return False
    path = module_path(name)
    if path is None or path.suffix not in ("", ".py"):
        return False
    real = os.path.realpath(path) + (os.sep if path.is_dir() else "")
    if real.startswith(_system_roots()):
        return False
    return name not in _distribution_modules()


def _static_imports(path: Path) -> set[str]:
    files = [path] if path.is_file() else [p for p in path.rglob("*.py")
                                           if not _SKIP_DIRS.intersection(p.parts)]
    names: set[str] = set()
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        names |= _file_imports(str(file), stat.st_mtime_ns, stat.st_size)
    return names


@functools.lru_cache(maxsize=1024)
def _file_imports(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    """Top-level names a source file imports (cached until the file changes)."""
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (SyntaxError, OSError, ValueError):
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return frozenset(names)


def _referenced_modules(root: Any) -> tuple[set[str], bool]:
    """Top-level module names reachable from a callable; and whether `__main__` is used."""
    names: set[str] = set()
    uses_main = False
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.ModuleType):
            names.add(obj.__name__.split(".")[0])
            continue
        if isinstance(obj, functools.partial):
            stack.extend([obj.func, *obj.args, *obj.keywords.values()])
            continue
        if isinstance(obj, types.MethodType):
            stack.extend([obj.__func__, obj.__self__])
            continue
        module_name = getattr(obj, "__module__", None)
        if isinstance(module_name, str):
            if module_name == "__main__":
                uses_main = True
            else:
                names.add(module_name.split(".")[0])
        if isinstance(obj, types.FunctionType):
            codes = [obj.__code__]
            while codes:
                code = codes.pop()
                for name in code.co_names:
                    if name in obj.__globals__:
                        stack.append(obj.__globals__[name])
                codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
            for cell in obj.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
            stack.extend((obj.__defaults__ or ()) + tuple((obj.__kwdefaults__ or {}).values()))
        elif isinstance(obj, type):
            stack.extend(v for v in vars(obj).values()
                         if isinstance(v, (types.FunctionType, classmethod, staticmethod)))
        elif isinstance(obj, (classmethod, staticmethod)):
            stack.append(obj.__func__)
        elif callable(obj) and not isinstance(obj, types.BuiltinFunctionType):
            stack.append(type(obj))
            stack.extend(getattr(obj, "__dict__", {}).values())
    return names, uses_main


def find_user_modules(func: Callable[..., Any], include: Iterable[str] | None = (),
                      exclude: Iterable[str] = (),
                      preinstalled: frozenset[str] = frozenset()) -> dict[str, Path]:
    """Top-level user modules to ship with `func`, as {name: file or package dir}.

    `include=[]` (or `()`) ships every user module found; `include=None` ships none; a
    non-empty list ships exactly those names. `exclude` always wins.
    """
    if include is None:
        return {}
    include = [name.split(".")[0] for name in include]
    excluded = {name.split(".")[0] for name in exclude} | set(preinstalled)
    if include:
        found = {n: p for n in include if n not in excluded and (p := module_path(n))}
        missing = [n for n in include if n not in found and n not in excluded]
        if missing:
            logger.warning("include_modules names modules that cannot be found: %s", missing)
        return found
    names, uses_main = _referenced_modules(func)
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if uses_main and main_file and Path(main_file).is_file():
        names |= _static_imports(Path(main_file))
    result: dict[str, Path] = {}
    pending = sorted(names)
    while pending:
        name = pending.pop()
        if name in result or name in excluded or not is_user_module(name):
            continue
        path = module_path(name)
        assert path is not None
        result[name] = path
        pending.extend(sorted(_static_imports(path) - set(result)))
    return result


def _entries(name: str, path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.name, path)]
    out = []
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path.parent)
        if file.is_file() and not _SKIP_DIRS.intersection(rel.parts) and file.suffix != ".pyc":
            out.append((rel.as_posix(), file))
    return out


def zip_modules(modules: dict[str, Path]) -> bytes:
    """A deterministic zip of the modules (empty bytes when there are none)."""
    if not modules:
        return b""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(modules):
            for arcname, file in _entries(name, modules[name]):
                info = zipfile.ZipInfo(arcname, _ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, file.read_bytes())
    return buffer.getvalue()

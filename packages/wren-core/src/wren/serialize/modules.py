"""Find the user's own modules that a function needs.

A function pickled by reference (`mymod.f`) only loads where `mymod` can be imported, so wren
ships the modules that belong to the user, not to Python or an installed distribution, and
only those the function reaches: `wren.serialize.reach` pickles the function with a recording
pickler (every module the pickle names, every import its by-value code runs), then the import
statements of each reached user module's source are followed (`ast`, relative imports
resolved, conditional and function-level imports included), adding the `__init__.py` of every
package on the way, until nothing new is found. A module `__main__` imported but the function
never touches is not shipped. `include_modules` bypasses the search and ships the named
modules whole (a package with its data files); `exclude_modules` always wins.
"""

from __future__ import annotations

import functools
import logging
import os
import site
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wren.serialize.imports import candidates, file_imports

if TYPE_CHECKING:
    from wren.serialize.reach import Reach

logger = logging.getLogger("wren")


@functools.cache
def system_roots() -> tuple[str, ...]:
    """Python's own and the sites' directories. `sysconfig`'s install paths (stdlib,
    purelib, platlib) all lie in these prefixes or site directories, so it is not asked: its
    set-up costs a first job 2-3 ms."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.__file__)}  # the standard library itself
    roots.update(getattr(site, "getsitepackages", list)())
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site:
        roots.add(user_site)
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


@functools.cache
def _distribution_modules() -> frozenset[str]:
    from wren._entry_points import distribution_modules  # importlib.metadata only if need be

    try:
        return distribution_modules()
    except Exception:  # a broken distribution must not stop a job
        return frozenset()


def module_path(name: str) -> Path | None:
    """The file (or package directory) a top-level module is loaded from, if any."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        try:
            import importlib.util  # a module not imported yet: rare, and 0.4 ms to import

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


#: Top-level modules every runtime has with wren: wren's own and cloudpickle (a dependency of
#: wren-core, named by every function pickled by value, whose file needs no looking up).
_WITH_WREN = frozenset({"wren", "wren_cli", "cloudpickle", "__main__"})


def is_user_module(name: str) -> bool:
    """True for a top-level module that belongs to the user, not Python or a distribution."""
    if (name in sys.builtin_module_names or name in getattr(sys, "stdlib_module_names", ())
            or name in _WITH_WREN or name.startswith("wren_backend_")):
        return False
    path = module_path(name)
    if path is None or path.suffix not in ("", ".py") or _in_system_roots(str(path)):
        return False
    return name not in _distribution_modules()


@functools.lru_cache(maxsize=1024)
def _in_system_roots(path: str) -> bool:
    """Whether a module's file or package directory lies in Python's own or a site's
    directories (resolved once per path and process: every call of a job asks again)."""
    real = os.path.realpath(path) + (os.sep if os.path.isdir(path) else "")
    return real.startswith(system_roots())


def source_of(name: str) -> Path | None:
    """The `.py` source of a dotted user module (`__init__.py` for a package), or None."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None) if module is not None else None
    if file is None:
        top, *rest = name.split(".")
        root = module_path(top)
        if root is None:
            return None
        if not root.is_dir():
            file = root if not rest else None
        else:
            base = root.joinpath(*rest)
            file = base.with_name(base.name + ".py") if rest and \
                base.with_name(base.name + ".py").is_file() else base / "__init__.py"
    path = Path(file) if file else None
    return path if path is not None and path.suffix == ".py" and path.is_file() else None


def _package_of(name: str, source: Path) -> str:
    return name if source.name == "__init__.py" else name.rpartition(".")[0]


class _Selection:
    """Which dotted names may ship: user modules, not excluded, not preinstalled."""

    def __init__(self, exclude: Iterable[str], preinstalled: frozenset[str]) -> None:
        self.exclude = tuple(exclude)
        self.preinstalled = preinstalled
        self._tops: dict[str, bool] = {}

    def excluded(self, name: str) -> bool:
        return name.partition(".")[0] in self.preinstalled or any(
            name == e or name.startswith(e + ".") for e in self.exclude)

    def allows(self, name: str) -> bool:
        if self.excluded(name):
            return False
        top = name.partition(".")[0]
        if top not in self._tops:
            self._tops[top] = is_user_module(top)
        return self._tops[top]


def _explicit(include: list[str], selection: _Selection) -> dict[str, Path]:
    """`include_modules` as given: each name whole (a package with its data files), plus the
    `__init__.py` of the packages above it."""
    found: dict[str, Path] = {}
    missing = []
    for name in include:
        if selection.excluded(name):
            continue
        source = source_of(name)
        path = (source.parent if source.name == "__init__.py" else source) if source \
            else (module_path(name) if "." not in name else None)  # a namespace package
        if path is None:
            missing.append(name)
            continue
        found[name] = path
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = source_of(".".join(parts[:i]))
            if parent is not None:
                found.setdefault(".".join(parts[:i]), parent)
    if missing:
        logger.warning("include_modules names modules that cannot be found: %s", missing)
    return found


def try_reach(func: Callable[..., Any]) -> Reach | None:
    """What `func` reaches (`wren.serialize.reach`), or None, with a warning, when
    cloudpickle's view of it fails where the serializer managed."""
    from wren.serialize.reach import reach

    try:
        return reach(func)
    except Exception as exc:
        logger.warning("cannot work out the user modules %s needs (%s: %s); shipping none. "
                       "Name them with include_modules", getattr(func, "__qualname__", func),
                       type(exc).__name__, exc)
        return None


def find_user_modules(func: Callable[..., Any], include: Iterable[str] | None = (),
                      exclude: Iterable[str] = (),
                      preinstalled: frozenset[str] = frozenset(),
                      reached: Reach | None = None) -> dict[str, Path]:
    """User modules to ship with `func`, as {dotted name: source file or package dir}.

    `include=[]` (or `()`) ships the user modules `func` reaches (see `wren.serialize.reach`)
    and, recursively, the user modules their sources import, each as its `.py` file plus the
    `__init__.py` of its packages; `include=None` ships none; a non-empty list ships exactly
    those names, a package as its whole directory (data files included). `exclude` (a name
    and everything under it) and `preinstalled` (top-level names) always win. `reached` is
    `try_reach(func)` when the caller has it already.
    """
    if include is None:
        return {}
    selection = _Selection(exclude, preinstalled)
    include = list(include)
    if include:
        return _explicit(include, selection)
    if reached is None:
        reached = try_reach(func)
        if reached is None:
            return {}
    pending = sorted(reached.named)
    for package, ref in reached.imports:
        pending.extend(candidates(ref, package))
    result: dict[str, Path] = {}
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if not selection.allows(name) or (source := source_of(name)) is None:
            continue
        result[name] = source
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        package = _package_of(name, source)
        for ref in file_imports(source):
            pending.extend(candidates(ref, package))
    return result

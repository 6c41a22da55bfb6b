"""Entry points and top-level modules of installed distributions, read straight from their
metadata folders.

`importlib.metadata` costs milliseconds to import and more to scan (it parses e-mail headers,
zip paths, ...), which every fresh client process would pay to find its adapters. On the
usual layout, distributions are `*.dist-info` / `*.egg-info` folders in the `sys.path`
directories, and their `entry_points.txt` is a small INI file: this module reads those
directly, with the same precedence (the first distribution of a name on `sys.path` wins). So
are the top-level names a distribution provides (`top_level.txt`, else the `.py` files its
`RECORD` lists, as `importlib.metadata.packages_distributions` infers them). When the layout
is anything else (a zip or an egg on `sys.path`, a meta-path finder of its own that lists
distributions), it falls back to `importlib.metadata`, so nothing is ever missed.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from typing import Any


class DistributionName:
    """The `Name:` of an installed distribution's metadata, read when first asked for."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._name: str | None = None

    @property
    def name(self) -> str | None:
        if self._name is None:
            for file in ("METADATA", "PKG-INFO"):
                try:
                    with open(os.path.join(self._folder, file), encoding="utf-8") as meta:
                        for line in meta:
                            if line.startswith("Name:"):
                                self._name = line[5:].strip()
                                return self._name
                            if not line.strip():
                                break
                except OSError:
                    continue
        return self._name


class FoundEntryPoint:
    """One entry point (`name = module:attr`), as `importlib.metadata.EntryPoint` offers it:
    `name`, `value`, `group`, `module`, `attr`, `dist` (its `.name`) and `load()`."""

    def __init__(self, name: str, value: str, group: str, dist: DistributionName) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].partition("[")[0].strip()

    def load(self) -> Any:
        target: Any = importlib.import_module(self.module)
        for part in filter(None, self.attr.split(".")):
            target = getattr(target, part)
        return target

    def __repr__(self) -> str:
        return f"FoundEntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


_SEPARATORS = re.compile(r"[-_.]+")


def _normalized(name: str) -> str:
    """The name with each run of `-`, `_` and `.` written as one `_`, lower case."""
    return _SEPARATORS.sub("_", name.lower())


def _folders() -> list[str] | None:
    """The metadata folders of installed distributions in `sys.path` order, each name once;
    None when only `importlib.metadata` can list them. Listed once per `sys.path` (and
    again after `clear_cache()`)."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            return None
    return _listed(tuple(sys.path))


@functools.lru_cache(maxsize=4)
def _listed(path: tuple[str, ...]) -> list[str] | None:
    seen: set[str] = set()
    folders = []
    for entry in path:
        entry = entry or "."
        if os.path.isfile(entry) or entry.lower().endswith(".egg"):
            return None  # a zip or an egg on sys.path
        try:
            with os.scandir(entry) as listing:
                found = sorted((item.name, item.path) for item in listing
                               if item.name.endswith((".dist-info", ".egg-info"))
                               and item.is_dir())
        except OSError:
            continue
        for name, folder in found:
            normal = _normalized(name.rpartition(".")[0].partition("-")[0])
            if normal not in seen:
                seen.add(normal)
                folders.append(folder)
    return folders


def clear_cache() -> None:
    """Forget the listed folders (after installing a distribution at run time)."""
    _listed.cache_clear()
    _declared.cache_clear()


def _parse(text: str, group: str, dist: DistributionName) -> list[FoundEntryPoint]:
    found, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            found.append(FoundEntryPoint(name.strip(), value.strip(), group, dist))
    return found


def entry_points(group: str) -> list[Any]:
    """The entry points of `group` of every installed distribution, in `sys.path` order."""
    folders = _folders()
    if folders is None:
        from importlib.metadata import entry_points as scan

        return list(scan(group=group))
    found: list[Any] = []
    for folder, text in _declared(tuple(folders)):
        if f"[{group}]" in text.replace(" ", ""):
            found.extend(_parse(text, group, DistributionName(folder)))
    return found


@functools.lru_cache(maxsize=4)
def _declared(folders: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each folder's `entry_points.txt` that exists, read once for every group asked."""
    texts = []
    for folder in folders:
        try:
            with open(os.path.join(folder, "entry_points.txt"), encoding="utf-8") as file:
                texts.append((folder, file.read()))
        except OSError:
            continue
    return texts


def _provided(folder: str) -> set[str]:
    """The top-level names one distribution provides."""
    for file in ("top_level.txt", "RECORD"):
        try:
            with open(os.path.join(folder, file), encoding="utf-8") as listing:
                text = listing.read()
        except OSError:
            continue
        if file == "top_level.txt":
            if text.split():
                return set(text.split())
            continue
        names = set()
        for line in text.splitlines():
            path = line.split(",", 1)[0].strip('"')
            if path.endswith(".py"):
                first, sep, _ = path.partition("/")
                names.add(first if sep else first[:-3])
        return names
    return set()


def distribution_modules() -> frozenset[str]:
    """Every top-level module name an installed distribution provides."""
    folders = _folders()
    if folders is None:
        from importlib.metadata import packages_distributions

        return frozenset(packages_distributions())
    names: set[str] = set()
    for folder in folders:
        names |= _provided(folder)
    return frozenset(names)

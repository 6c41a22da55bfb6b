"""Find adapters through entry points, one group per port, scanned lazily and cached.

A distribution declares e.g. `[project.entry-points."wren.compute_backends"] foo =
"wren_backend_foo:FooCompute"` and `backend="foo"` just works. Nothing is imported until a
name is asked for; the scan of a group happens once per process. Core knows no adapter by
name: install hints come from the entry points' distribution metadata, and the URL schemes a
storage backend serves from its class.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from wren._errors import BackendNotFoundError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

COMPUTE_GROUP = "wren.compute_backends"
STORAGE_GROUP = "wren.storage_backends"
SERIALIZER_GROUP = "wren.serializers"
PARTITIONER_GROUP = "wren.partitioners"
#: Config sections that no backend is named after (shared ones like Lithops' `ibm:`, and
#: services like `rabbitmq:`): each name registers the section's `ConfigSchema`.
CONFIG_SECTION_GROUP = "wren.config_sections"

_KINDS = {
    COMPUTE_GROUP: "compute backend",
    STORAGE_GROUP: "storage backend",
    SERIALIZER_GROUP: "serializer",
    PARTITIONER_GROUP: "partitioner",
    CONFIG_SECTION_GROUP: "config section",
}

#: Objects wren-core provides itself, resolved without scanning installed distributions
#: (the scan costs tens of milliseconds, which a worker starting up should not pay).
_BUILTIN = {
    (SERIALIZER_GROUP, "cloudpickle"): "wren.serialize.cloudpickle_serializer:"
                                       "CloudpickleSerializer",
    (CONFIG_SECTION_GROUP, "multiprocessing"): "wren.multiprocessing.redis_settings:"
                                                "MULTIPROCESSING_SCHEMA",
    (CONFIG_SECTION_GROUP, "rabbitmq"): "wren.monitoring.settings:RABBITMQ_SCHEMA",
    (CONFIG_SECTION_GROUP, "redis"): "wren.multiprocessing.redis_settings:"
                                      "MULTIPROCESSING_SCHEMA",
}
_primed: dict[tuple[str, str], Any] = {}


@functools.cache
def _scan(group: str) -> dict[str, EntryPoint]:
    from wren._entry_points import entry_points  # importlib.metadata only when it must

    return {ep.name: ep for ep in entry_points(group)}


def prime(group: str, name: str, obj: Any) -> None:
    """Register an object for a name without an entry point (a runtime that knows what it
    provides uses this to skip the scan)."""
    _primed[(group, name)] = obj


def installed(group: str) -> list[str]:
    """Names registered in an entry-point group, sorted."""
    return sorted(_scan(group))


def registered(group: str) -> list[str]:
    """Every name `load` resolves in a group: entry points, wren-core's own and primed ones."""
    own = {name for (g, name) in (*_BUILTIN, *_primed) if g == group}
    return sorted(own | set(_scan(group)))


def distribution_hint(name: str) -> str:
    """A guess at the distribution that provides a name nothing installed registers:
    wren's naming convention, `wren-backend-<name>` with `_` written `-`."""
    return "wren-backend-" + name.replace("_", "-")


def provider(entry_point: EntryPoint) -> str | None:
    """The distribution an installed entry point comes from, as its metadata says (None
    for an entry point made at run time)."""
    dist = getattr(entry_point, "dist", None)
    return str(dist.name) if dist is not None and dist.name else None


@functools.cache
def load(group: str, name: str) -> Any:
    """Import and return the object registered as `name` in `group`."""
    if (group, name) in _primed:
        return _primed[(group, name)]
    builtin = _BUILTIN.get((group, name))
    if builtin is not None:
        import importlib

        module, _, attribute = builtin.partition(":")
        return getattr(importlib.import_module(module), attribute)
    kind = _KINDS.get(group, group)
    found = _scan(group).get(name)
    if found is None:
        names = ", ".join(installed(group)) or "none"
        raise BackendNotFoundError(
            f"unknown {kind} {name!r}. Installed {kind}s: {names}. If {name!r} is a wren "
            f"adapter, install the package that provides it (by wren's naming convention: "
            f"pip install {distribution_hint(name)})")
    try:
        return found.load()
    except ImportError as exc:
        dist = provider(found)
        fix = (f"Reinstall it with: pip install --force-reinstall {dist}" if dist else
               "Reinstall the package that registers it")
        raise BackendNotFoundError(
            f"{kind} {name!r} is installed ({found.value}) but failed to import: {exc}. {fix}"
        ) from exc


def compute_backend_class(name: str) -> Any:
    return load(COMPUTE_GROUP, name)


def storage_backend_class(name: str) -> Any:
    return load(STORAGE_GROUP, name)


def serializer_class(name: str) -> Any:
    return load(SERIALIZER_GROUP, name)


def partitioner_class(name: str) -> Any:
    return load(PARTITIONER_GROUP, name)


@functools.cache
def storage_schemes() -> dict[str, tuple[str, ...]]:
    """Each URL scheme the installed storage backends declare in `url_schemes`, with the
    names of the backends that serve it. Entry-point metadata cannot carry the schemes, so
    the first call imports every installed storage backend; one that fails to import is
    left out (using it by name still says why)."""
    served: dict[str, list[str]] = {}
    for name in installed(STORAGE_GROUP):
        try:
            cls = storage_backend_class(name)
        except BackendNotFoundError:
            continue
        for scheme in getattr(cls, "url_schemes", ()):
            served.setdefault(scheme.lower(), []).append(name)
    return {scheme: tuple(names) for scheme, names in sorted(served.items())}


def clear_cache() -> None:
    """Forget scanned entry points (after installing a package at run time, or in tests)."""
    from wren import _entry_points

    _entry_points.clear_cache()
    _scan.cache_clear()
    load.cache_clear()
    storage_schemes.cache_clear()

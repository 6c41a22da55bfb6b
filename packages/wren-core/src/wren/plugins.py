"""Find adapters through entry points, one group per port, scanned lazily and cached.

A distribution declares e.g. `[project.entry-points."wren.compute_backends"] foo =
"wren_backend_foo:FooCompute"` and `backend="foo"` just works. Nothing is imported until a
name is asked for; the scan of a group happens once per process.
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

_KINDS = {
    COMPUTE_GROUP: "compute backend",
    STORAGE_GROUP: "storage backend",
    SERIALIZER_GROUP: "serializer",
    PARTITIONER_GROUP: "partitioner",
}

#: Where first-party backends live, for the install hint of an unknown name.
_DISTRIBUTION_OF = {
    "localhost": "wren-backend-local",
    "ibm_cf": "wren-backend-ibmcf",
    "openwhisk": "wren-backend-ibmcf",
    "ibm_cos": "wren-backend-ibmcf",
    "knative": "wren-backend-knative",
    "azure_containers": "wren-backend-azure",
    "azure_storage": "wren-backend-azure",
}


#: Objects wren-core provides itself, resolved without scanning installed distributions
#: (the scan costs tens of milliseconds, which a worker starting up should not pay).
_BUILTIN = {
    (SERIALIZER_GROUP, "cloudpickle"): "wren.serialize.cloudpickle_serializer:"
                                       "CloudpickleSerializer",
}
_primed: dict[tuple[str, str], Any] = {}


@functools.cache
def _scan(group: str) -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=group)}


def prime(group: str, name: str, obj: Any) -> None:
    """Register an object for a name without an entry point (a runtime that knows what it
    provides uses this to skip the scan)."""
    _primed[(group, name)] = obj


def installed(group: str) -> list[str]:
    """Names registered in an entry-point group, sorted."""
    return sorted(_scan(group))


def distribution_hint(name: str) -> str:
    """The distribution that provides a backend name (a guess for names we do not know)."""
    return _DISTRIBUTION_OF.get(name, "wren-backend-" + name.replace("_", "-"))


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
            f"adapter, install it with: pip install {distribution_hint(name)}")
    try:
        return found.load()
    except ImportError as exc:
        raise BackendNotFoundError(
            f"{kind} {name!r} is installed ({found.value}) but failed to import: {exc}. "
            f"Reinstall it with: pip install --force-reinstall {distribution_hint(name)}"
        ) from exc


def compute_backend_class(name: str) -> Any:
    return load(COMPUTE_GROUP, name)


def storage_backend_class(name: str) -> Any:
    return load(STORAGE_GROUP, name)


def serializer_class(name: str) -> Any:
    return load(SERIALIZER_GROUP, name)


def partitioner_class(name: str) -> Any:
    return load(PARTITIONER_GROUP, name)


def clear_cache() -> None:
    """Forget scanned entry points (after installing a package at run time, or in tests)."""
    _scan.cache_clear()
    load.cache_clear()

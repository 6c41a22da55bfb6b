"""Plan a data-processing map: one call per chunk of every object the inputs name.

A `map` is a data-processing map when its function has a parameter named `obj` and its
items name objects: `iterdata` is one input or a list of them, an item being an input (see
`wren.dataproc.inputs`) or a dict whose `obj` entry is one, its other entries going to every
call made from it. Plain values make an ordinary map even then (`map(len, ['ab'])`), and a
mix of both is a clear error. Each input
expands to objects (a prefix to every object under it), each object to chunks by the
chunking options; the plan's items are dicts `{"obj": ChunkRef, ...}` that bind by name, and
`groups` says which calls belong to which object (for one reducer per object).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from wren._errors import InvalidInputError
from wren.client.binding import takes_obj
from wren.dataproc.discovery import DataTarget, resolve
from wren.dataproc.inputs import is_reference, parse_input
from wren.dataproc.options import ChunkingOptions
from wren.dataproc.refs import ChunkRef
from wren.storage_api.cloudobject import CloudObject


@attrs.frozen
class DataPlan:
    """The calls of a data-processing map, and the range of calls of each object."""

    items: list[dict[str, Any]]
    groups: list[range]


def _items(iterdata: Any) -> list[Any]:
    if isinstance(iterdata, (str, CloudObject, os.PathLike, Mapping)):
        return [iterdata]
    if not isinstance(iterdata, Iterable):
        raise InvalidInputError(f"map_iterdata must name the objects to process (one input or "
                                f"a list), got {type(iterdata).__name__}")
    return list(iterdata)


def plan_data_job(func: Callable[..., Any], iterdata: Any, target: DataTarget,
                  options: ChunkingOptions) -> DataPlan | None:
    """The plan, or None for an ordinary map: `func` takes no `obj`, or no item names an
    object."""
    if not takes_obj(func):
        if options.chunked:
            raise InvalidInputError(
                "chunk_size and chunk_n split objects for data processing: the function "
                "needs a parameter named `obj` to receive each chunk")
        return None
    items = _items(iterdata)
    # a lone string can only be an input (a string is no iterdata): parse it, errors and all
    names = [True] if isinstance(iterdata, (str, os.PathLike)) else [
        is_reference(item) for item in items]
    if not all(names):
        if any(names):
            plain, named = names.index(False), names.index(True)
            raise InvalidInputError(
                f"iterdata mixes objects to process (item {named}: {items[named]!r:.60}) "
                f"with plain values (item {plain}: {items[plain]!r:.60}). A function with an "
                "`obj` parameter processes data only when every item names an object "
                "('<bucket>/<key>', '<backend>://...', a CloudObject, a URL, a local path, "
                "or a dict with one under 'obj'); pass only objects, or only plain values "
                "for an ordinary map")
        if options.chunked:
            raise InvalidInputError(
                "chunk_size and chunk_n split objects for data processing, but no iterdata "
                "item names an object ('<bucket>/<key>', '<backend>://...', a CloudObject, "
                "a URL or a local path); drop them for an ordinary map")
        return None
    extras: list[dict[str, Any]] = []
    specs = []
    for item in items:
        if isinstance(item, Mapping):  # is_reference: it has an 'obj' entry
            extras.append({k: v for k, v in item.items() if k != "obj"})
            item = item["obj"]
        else:
            extras.append({})
        specs.append(parse_input(item))
    partitioner = options.partitioner()
    name, partitioner_options = partitioner.name, partitioner.options
    calls: list[dict[str, Any]] = []
    groups: list[range] = []
    for objects, extra in zip(resolve(specs, target), extras, strict=True):
        for source in objects:
            if source.ranges:
                parts = partitioner.plan(source.uri, source.size, options.chunk_size,
                                         options.chunk_n)
            else:
                parts = partitioner.plan(source.uri, source.size)
            first = len(calls)
            calls.extend({"obj": ChunkRef(source, part, name, partitioner_options), **extra}
                         for part in parts)
            groups.append(range(first, len(calls)))
    return DataPlan(calls, groups)

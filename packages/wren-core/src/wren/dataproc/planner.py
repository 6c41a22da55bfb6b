"""Plan a data-processing map: one call per chunk of every object the inputs name.

A function with a parameter named `obj` makes `map` a data-processing map. Its `iterdata`
is one input or a list of them; an item is an input (see `wren.dataproc.inputs`) or a dict
whose `obj` entry is one, its other entries going to every call made from it. Each input
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
from wren.dataproc.inputs import parse_input
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
    """The plan, or None when `func` does not take `obj` (an ordinary map)."""
    if not takes_obj(func):
        if options.chunked:
            raise InvalidInputError(
                "chunk_size and chunk_n split objects for data processing: the function "
                "needs a parameter named `obj` to receive each chunk")
        return None
    items = _items(iterdata)
    extras: list[dict[str, Any]] = []
    specs = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            if "obj" not in item:
                raise InvalidInputError(f"iterdata item {index} ({item!r:.80}) has no 'obj' "
                                        "entry naming the object to process")
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

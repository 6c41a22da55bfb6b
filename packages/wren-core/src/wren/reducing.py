"""The reduce step of `map_reduce`: which function the reducer job runs, and its calls.

Remotely, each reducer call runs a `RemoteReducer` holding the user's reduce function, which
waits in a worker for its map calls' results. Locally (`reducer_wait_local`),
the map results are already here and go in as the argument. `groups` gives one reducer per
range of map calls (one per input object); None gives one reducer over all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from wren.worker.reducer import RemoteReducer

Groups = Sequence[range] | None


def remote_reducer(reduce_function: Callable[..., Any], map_job_key: str, n_calls: int,
                   serializer_name: str, groups: Groups = None
                   ) -> tuple[Callable[..., Any], list[Any]]:
    """`(function, iterdata)` of a reducer job that reads the map results from storage."""
    reducer = RemoteReducer(reduce_function, serializer_name)
    if groups is None:
        return reducer, [{"n_calls": n_calls, "map_job_key": map_job_key}]
    return reducer, [{"n_calls": group, "map_job_key": map_job_key} for group in groups]


def local_reducer_items(results: list[Any], groups: Groups = None) -> list[Any]:
    """Iterdata of a reducer job given the map results here: all, or one slice per group."""
    if groups is None:
        return [(results,)]
    return [(results[group.start:group.stop],) for group in groups]

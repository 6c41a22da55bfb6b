"""The worker side of data processing: a call's `ChunkRef` becomes a `DataChunk` read
through the worker's storage, and its stream is closed when the call returns."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from wren import StorageError
from wren.dataproc import ChunkRef, DataChunk, DataObject, with_chunks
from wren.partition import LinePartitioner
from wren.testing import MemoryStorage

DATA = b"alpha\nbeta\ngamma\ndelta\n"


def ref(part: int, parts: int = 2, backend: str = "memory") -> ChunkRef:
    partitioner = LinePartitioner()
    plan = partitioner.plan("memory://b/k", len(DATA), chunk_n=parts)
    return ChunkRef(DataObject("storage", "k", len(DATA), backend, "b"), plan[part],
                    partitioner.name, partitioner.options)


@pytest.fixture
def storage() -> MemoryStorage:
    store = MemoryStorage()
    store.put_object("b", "k", DATA)
    return store


def test_chunk_replaces_the_ref_and_is_closed_after_the_call(storage: MemoryStorage) -> None:
    seen: list[DataChunk] = []

    def func(payload: Any, index: int) -> Any:
        chunk = payload["obj"]
        seen.append(chunk)
        return index, payload["x"], chunk.data_stream.read()

    invoke = with_chunks(func, storage)
    assert invoke({"obj": ref(0), "x": 1}, 7) == (7, 1, b"alpha\nbeta\n")
    assert invoke({"obj": ref(1), "x": 2}, 8) == (8, 2, b"gamma\ndelta\n")
    assert all(chunk._stream is None for chunk in seen)
    assert [(c.key, c.bucket, c.part, c.total_parts) for c in seen] == [("k", "b", 0, 2),
                                                                       ("k", "b", 1, 2)]
    # inclusive end, as Lithops and PyWren-IBM give it (changed by issue 13)
    assert seen[1].data_byte_range == (len(DATA) // 2, len(DATA) - 1) and seen[1].url is None


def test_positional_payloads_and_other_objects_pass_through(storage: MemoryStorage) -> None:
    def func(payload: Any, index: int) -> Any:
        args, kwargs = payload
        return args, kwargs["obj"] if isinstance(kwargs["obj"], str) else \
            kwargs["obj"].data_stream.readline()

    invoke = with_chunks(func, storage)
    assert invoke(((1,), {"obj": ref(0)}), 0) == ((1,), b"alpha\n")
    assert invoke(((2,), {"obj": "plain"}), 1) == ((2,), "plain")


def test_a_chunk_from_another_backend_is_a_clear_error(storage: MemoryStorage) -> None:
    chunk = DataChunk(ref(0, backend="ibm_cos"), storage)
    with pytest.raises(StorageError, match="ibm_cos"):
        chunk.data_stream.read()


def test_a_chunk_pickles_as_its_reference(storage: MemoryStorage) -> None:
    chunk = DataChunk(ref(1), storage)
    chunk.data_stream.read(1)
    copy = pickle.loads(pickle.dumps(chunk))
    assert (copy.uri, copy.part, copy.size) == ("memory://b/k", 1, len(DATA))
    assert "part 2/2" in repr(copy)
    chunk.close()

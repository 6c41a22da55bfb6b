"""Planning a data-processing map on an in-memory storage: listing, sizes, chunk refs,
groups per object, and the errors that stop a bad map before it runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from wren import CloudObject, InvalidInputError
from wren.dataproc import ChunkingOptions, ChunkRef, DataTarget, plan_data_job, takes_obj
from wren.testing import MemoryStorage

MiB = 1 << 20


def lines(obj: Any) -> list[bytes]:
    return list(obj.data_stream)


def tagged(obj: Any, tag: str) -> str:
    return tag


@pytest.fixture
def storage() -> MemoryStorage:
    store = MemoryStorage()
    store.put_object("b", "in/", b"")  # an S3-style directory marker
    store.put_object("b", "in/x.txt", b"x" * (2 * MiB + 1))
    store.put_object("b", "in/sub/", b"")
    store.put_object("b", "in/sub/y.txt", b"yy\n")
    store.put_object("b", "other.txt", b"o\n")
    return store


def plan(storage: MemoryStorage, iterdata: Any, func: Any = lines, local: bool = False,
         **chunking: Any) -> Any:
    target = DataTarget(storage, "memory", local)
    return plan_data_job(func, iterdata, target, ChunkingOptions.from_arguments(**chunking))


def test_prefix_lists_objects_and_skips_directory_markers(storage: MemoryStorage) -> None:
    result = plan(storage, "memory://b/in/", chunk_size=MiB)
    refs = [item["obj"] for item in result.items]
    assert all(isinstance(ref, ChunkRef) for ref in refs)
    assert [(r.source.name, r.partition.part, r.partition.total_parts) for r in refs] == [
        ("in/sub/y.txt", 0, 1), ("in/x.txt", 0, 3), ("in/x.txt", 1, 3), ("in/x.txt", 2, 3)]
    assert result.groups == [range(0, 1), range(1, 4)]
    assert refs[1].partition.size == 2 * MiB + 1 and refs[1].partitioner == "lines"


def test_items_keep_extra_arguments_and_groups_follow_inputs(storage: MemoryStorage) -> None:
    result = plan(storage, [{"obj": "b/other.txt", "tag": "a"},
                            {"obj": CloudObject("memory", "b", "in/x.txt"), "tag": "b"}],
                  func=tagged, chunk_n=2)
    assert [item["tag"] for item in result.items] == ["a", "a", "b", "b"]
    assert result.groups == [range(0, 2), range(2, 4)]


def test_ordinary_functions_are_not_planned(storage: MemoryStorage) -> None:
    assert plan(storage, [1, 2], func=lambda x: x) is None
    assert takes_obj(lines) and not takes_obj(print)
    with pytest.raises(InvalidInputError, match="parameter named `obj`"):
        plan(storage, [1], func=lambda x: x, chunk_n=2)


def test_items_that_name_no_object_make_an_ordinary_map(storage: MemoryStorage) -> None:
    # a parameter named obj alone does not start data processing (Lithops 3.8 always
    # treats such a function as object processing: map(len, ['ab', 'c']) fails there)
    assert not takes_obj(len)  # (obj, /): no chunk can be passed to it by name
    assert plan(storage, ["ab", "c"], func=len) is None
    assert plan(storage, ["ab", 3, ("x",), {"tag": "x"}, {"obj": 5}]) is None
    assert plan(storage, [], func=lines) is not None
    with pytest.raises(InvalidInputError, match="no iterdata item names an object"):
        plan(storage, ["ab"], chunk_size=MiB)


@pytest.mark.parametrize("item", [
    "b/other.txt", "memory://b/other.txt", "b/in/", CloudObject("memory", "b", "other.txt"),
    {"obj": "b/other.txt", "tag": "t"}])
def test_object_references_start_data_processing(storage: MemoryStorage, item: Any) -> None:
    result = plan(storage, [item], func=tagged if isinstance(item, dict) else lines)
    assert result is not None and isinstance(result.items[0]["obj"], ChunkRef)


def test_many_single_objects_are_looked_up_in_order(storage: MemoryStorage) -> None:
    for i in range(40):
        storage.put_object("b", f"many/{i:02d}", b"." * i)
    keys = [f"b/many/{i:02d}" for i in reversed(range(40))]
    result = plan(storage, keys)
    assert [item["obj"].source.size for item in result.items] == list(reversed(range(40)))


@pytest.mark.parametrize(("iterdata", "message"), [
    ("b/missing.txt", "end the name with '/'"),
    ("b/none/", "matches no objects"),
    ("azure_storage://b/k", "azure_storage"),
    ("nosuch://b/k", "not installed"),
    (["b/other.txt", {"tag": "x"}], "mixes objects to process .* with plain values"),
    ([1, "b/other.txt"], r"item 1: 'b/other.txt'"),
    (5, "must name the objects"),
    ("/tmp", "local path"),
])
def test_bad_inputs(storage: MemoryStorage, iterdata: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        plan(storage, iterdata)


def test_local_files_and_directories(storage: MemoryStorage, tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "b.txt").write_bytes(b"b\n")
    (tmp_path / "d" / "e" / "a.txt").write_bytes(b"a\n")
    (tmp_path / "f.txt").write_bytes(b"f\n" * 10)
    result = plan(storage, [tmp_path / "d", f"file://{tmp_path}/f.txt"], local=True)
    names = [os.path.relpath(item["obj"].source.name, tmp_path) for item in result.items]
    assert names == ["d/b.txt", "d/e/a.txt", "f.txt"]
    with pytest.raises(InvalidInputError, match="no such file"):
        plan(storage, str(tmp_path / "missing"), local=True)

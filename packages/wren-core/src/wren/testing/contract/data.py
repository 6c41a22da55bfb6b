"""The data-processing contract: `map` and `map_reduce` over objects, on one compute +
storage pair.

Bind it with the executor contract's `make_executor` fixture. The tests write their objects
through `wren.Storage` into the executor's bucket under a random prefix, then map over a
prefix, a list of keys, `CloudObject`s and (where workers share this machine) local files,
with and without chunking, and check that the chunks' lines are exactly the objects' lines.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import wren
from wren.ports import capabilities
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, ExecutorBinding
from wren.testing.textdata import make_text, split_lines

MiB = 1 << 20


#: What the `data` fixture gives: a storage client, the bucket and a fresh prefix.
Data = tuple[wren.Storage, str, str]


@pytest.mark.timeout(180)
class DataProcessingContract(ExecutorBinding):
    """Mixin of data-processing tests; bind the fixture `make_executor`."""

    @pytest.fixture
    def data(self, fexec: wren.FunctionExecutor) -> Iterator[Data]:
        """`(storage client, bucket, prefix)`: a fresh prefix in the executor's bucket."""
        storage = wren.Storage.from_backend(fexec.storage)
        prefix = f"wren-data-contract/{uuid.uuid4().hex}/"
        yield storage, fexec.bucket, prefix
        storage.delete_objects(fexec.bucket, storage.list_keys(fexec.bucket, prefix))

    @staticmethod
    def _uri(fexec: wren.FunctionExecutor, bucket: str, key: str) -> str:
        return f"{fexec.storage_backend_name}://{bucket}/{key}"

    # Inputs -------------------------------------------------------------------------------
    def test_map_over_a_prefix_gives_one_call_per_object_in_key_order(
            self, fexec: wren.FunctionExecutor, data: Data) -> None:
        storage, bucket, prefix = data
        for name in ("b.txt", "a.txt", "sub/c.txt"):
            storage.put_object(bucket, prefix + name, f"{name}\nline 2\n")
        futures = fexec.map(fn.chunk_info, self._uri(fexec, bucket, prefix))
        infos = fexec.get_result(futures, timeout=WAIT)
        assert [i["key"] for i in infos] == [prefix + k for k in ("a.txt", "b.txt", "sub/c.txt")]
        assert all(i["bucket"] == bucket and (i["part"], i["total_parts"]) == (0, 1)
                   for i in infos)
        futures = fexec.map(fn.chunk_bytes, f"{bucket}/{prefix}sub/")
        assert fexec.get_result(futures, timeout=WAIT) == [b"sub/c.txt\nline 2\n"]

    def test_map_over_a_list_of_keys_with_extra_arguments(self, fexec: wren.FunctionExecutor,
                                                           data: Data) -> None:
        storage, bucket, prefix = data
        storage.put_object(bucket, prefix + "one", b"1\n")
        storage.put_object(bucket, prefix + "two", b"2\n")
        futures = fexec.map(fn.chunk_key_and_tag, [
            {"obj": f"{bucket}/{prefix}two", "tag": "x"},
            {"obj": self._uri(fexec, bucket, prefix + "one"), "tag": "y"}])
        assert fexec.get_result(futures, timeout=WAIT) == [(prefix + "two", "x"),
                                                           (prefix + "one", "y")]

    def test_cloudobjects_from_one_map_feed_the_next(self, fexec: wren.FunctionExecutor,
                                                     data: Data) -> None:
        storage = data[0]
        objects = fexec.get_result(fexec.map(fn.store_text, ["first\n", "second\n"]),
                                   timeout=WAIT)
        try:
            assert all(isinstance(o, wren.CloudObject) for o in objects)
            assert fexec.get_result(fexec.map(fn.chunk_bytes, objects), timeout=WAIT) == [
                b"first\n", b"second\n"]
            assert storage.get_cloudobject(objects[1]) == b"second\n"
        finally:
            storage.delete_cloudobjects(objects)

    def test_storage_parameter_receives_a_storage_client(self, fexec: wren.FunctionExecutor,
                                                         data: Data) -> None:
        storage, bucket, prefix = data
        storage.put_object(bucket, prefix + "s", b"whole object\n")
        futures = fexec.map(fn.chunk_with_storage, [f"{bucket}/{prefix}s"])
        result = fexec.get_result(futures, timeout=WAIT)
        assert result == [("Storage", b"whole object\n")]

    def test_local_paths_where_workers_share_this_machine(self, fexec: wren.FunctionExecutor,
                                                          tmp_path: Path) -> None:
        (tmp_path / "dir").mkdir()
        (tmp_path / "dir" / "x.txt").write_bytes(b"x1\nx2\n")
        (tmp_path / "dir" / "y.txt").write_bytes(b"y1\n")
        if not fexec.compute.supports(capabilities.SHARED_FILESYSTEM):
            with pytest.raises(wren.InvalidInputError, match="local path"):
                fexec.map(fn.chunk_lines, str(tmp_path / "dir"))
            return
        futures = fexec.map(fn.chunk_lines, [tmp_path / "dir", str(tmp_path / "dir/y.txt")])
        assert fexec.get_result(futures, timeout=WAIT) == [[b"x1\n", b"x2\n"], [b"y1\n"], [b"y1\n"]]

    # Chunking -----------------------------------------------------------------------------
    def test_chunk_size_gives_exactly_the_object_lines(self, fexec: wren.FunctionExecutor,
                                                       data: Data) -> None:
        storage, bucket, prefix = data
        text = make_text(3 * MiB + 12345, seed=11, long_line=MiB + MiB // 2)
        storage.put_object(bucket, prefix + "big.txt", text)
        futures = fexec.map(fn.chunk_lines, [f"{bucket}/{prefix}big.txt"], chunk_size=MiB)
        chunks = fexec.get_result(futures, timeout=WAIT)
        assert len(chunks) == 4
        assert [line for chunk in chunks for line in chunk] == split_lines(text)
        infos = fexec.get_result(fexec.map(fn.chunk_info, [f"{bucket}/{prefix}big.txt"],
                                           obj_chunk_size=MiB), timeout=WAIT)
        # inclusive ends, as Lithops and PyWren-IBM give data_byte_range
        assert [i["data_byte_range"] for i in infos] == [
            (0, MiB - 1), (MiB, 2 * MiB - 1), (2 * MiB, 3 * MiB - 1), (3 * MiB, len(text) - 1)]
        assert [(i["part"], i["total_parts"], i["chunk_size"]) for i in infos[:2]] == [
            (0, 4, MiB), (1, 4, MiB)]

    def test_chunk_n_wins_and_newline_none_gives_exact_ranges(
            self, fexec: wren.FunctionExecutor, data: Data) -> None:
        storage, bucket, prefix = data
        text = make_text(200_000, seed=13, newline=b"\r\n", final_newline=False)
        storage.put_object(bucket, prefix + "crlf.txt", text)
        source = f"{bucket}/{prefix}crlf.txt"
        chunks = fexec.get_result(fexec.map(fn.chunk_lines, source, chunk_n=5,
                                            chunk_size=MiB), timeout=WAIT)
        assert len(chunks) == 5
        assert [line for chunk in chunks for line in chunk] == split_lines(text)
        pieces = fexec.get_result(fexec.map(fn.chunk_bytes, source, obj_chunk_number=3,
                                            obj_newline=None), timeout=WAIT)
        assert len(pieces) == 3 and b"".join(pieces) == text
        assert len(pieces[0]) == len(text) // 3

    def test_any_positive_chunk_size(self, fexec: wren.FunctionExecutor, data: Data) -> None:
        # Lithops takes any obj_chunk_size; wren only warns below 1 MiB
        storage, bucket, prefix = data
        storage.put_object(bucket, prefix + "tiny", b"abcde")
        infos = fexec.get_result(fexec.map(fn.chunk_info, f"{bucket}/{prefix}tiny",
                                           chunk_size=2, obj_newline=None), timeout=WAIT)
        assert [i["data_byte_range"] for i in infos] == [(0, 1), (2, 3), (4, 4)]
        pieces = fexec.get_result(fexec.map(fn.chunk_bytes, f"{bucket}/{prefix}tiny",
                                            chunk_size=2, obj_newline=None), timeout=WAIT)
        assert pieces == [b"ab", b"cd", b"e"]

    def test_reducer_one_per_object(self, fexec: wren.FunctionExecutor, data: Data) -> None:
        storage, bucket, prefix = data
        texts = {"p/a": make_text(2 * MiB + 100, seed=1), "p/b": make_text(5000, seed=2)}
        for name, text in texts.items():
            storage.put_object(bucket, prefix + name, text)
        source = self._uri(fexec, bucket, prefix + "p/")
        for wait_local in (False, True):
            futures = fexec.map_reduce(fn.count_lines, source, fn.total, chunk_size=MiB,
                                       reducer_one_per_object=True,
                                       reducer_wait_local=wait_local)
            assert len(futures) == 3 + 1 + 2
            assert fexec.get_result(futures, timeout=WAIT) == [text.count(b"\n") for text in
                                                 texts.values()]
        futures = fexec.map_reduce(fn.chunk_lines, source, fn.concat, chunk_n=2,
                                   obj_reduce_by_key=True)
        assert fexec.get_result(futures, timeout=WAIT) == [split_lines(t) for t in texts.values()]
        futures = fexec.map_reduce(fn.count_lines, source, fn.total, chunk_size=MiB)
        assert fexec.get_result(futures, timeout=WAIT) == sum(t.count(b"\n")
                                                              for t in texts.values())

    # Bad input ----------------------------------------------------------------------------
    def test_bad_data_input_fails_before_anything_runs(self, fexec: wren.FunctionExecutor,
                                                       data: Data) -> None:
        storage, bucket, prefix = data
        storage.put_object(bucket, prefix + "k", b"k\n")
        good = f"{bucket}/{prefix}k"
        with pytest.raises(wren.InvalidInputError, match="at least 1"):
            fexec.map(fn.chunk_lines, good, chunk_size=0)
        with pytest.raises(wren.InvalidInputError, match="disagree"):
            fexec.map(fn.chunk_lines, good, chunk_size=MiB, obj_chunk_size=2 * MiB)
        with pytest.raises(wren.InvalidInputError, match="parameter named `obj`"):
            fexec.map(fn.double, [1], chunk_size=MiB)
        with pytest.raises(wren.InvalidInputError, match="parameter named `obj`"):
            fexec.map_reduce(fn.double, [1], fn.total, reducer_one_per_object=True)
        with pytest.raises(wren.InvalidInputError, match="end the name with '/'"):
            fexec.map(fn.chunk_lines, f"{bucket}/{prefix}missing")
        with pytest.raises(wren.InvalidInputError, match="matches no objects"):
            fexec.map(fn.chunk_lines, f"{bucket}/{prefix}nothing/")
        with pytest.raises(wren.InvalidInputError, match="neither an object nor a prefix"):
            fexec.map(fn.chunk_lines, bucket)
        other = "azure_storage" if fexec.storage_backend_name != "azure_storage" else "ibm_cos"
        with pytest.raises(wren.InvalidInputError, match=other):
            fexec.map(fn.chunk_lines, [good, f"{other}://{bucket}/{prefix}k"])
        # issue 13: items that name no object make an ordinary map, checked as one
        with pytest.raises(wren.InvalidInputError, match="does not fit"):
            fexec.map(fn.chunk_lines, [{"key": good}])
        with pytest.raises(wren.InvalidInputError, match="mixes objects to process"):
            fexec.map(fn.chunk_lines, [good, 42])
        assert fexec.futures == []

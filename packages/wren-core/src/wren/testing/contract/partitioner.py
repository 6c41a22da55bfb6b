"""The partitioner contract: the exact-lines property, read through a real storage adapter.

For any object and any chunking, the chunks the `lines` partitioner gives, concatenated,
are the object; every chunk is whole lines; so the chunks' lines concatenated are exactly
the object's lines — for lines longer than several chunks, `\\r\\n` files and files without a
final newline included. Hypothesis draws the files and chunkings. Bind it with the fixtures
of the storage contract, `storage` and `bucket`; override `partitioner` to check another
line-aligned partitioner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import IO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wren import plugins
from wren.ports.partitioner import Partition
from wren.ports.storage import StorageBackend
from wren.testing.contract._binding import StorageBinding
from wren.testing.textdata import make_text, split_lines

#: Runs of these pieces make the random files: newline-dense, with stray \r and \n.
_PIECES = [b"a", b"bc", b"\n", b"\r", b"\r\n", b"xyz " * 4]
_FILES = st.lists(st.tuples(st.sampled_from(_PIECES), st.integers(1, 120)),
                  max_size=40).map(lambda runs: b"".join(piece * n for piece, n in runs))
_CHUNKING = st.one_of(st.tuples(st.integers(1, 300), st.none()),
                      st.tuples(st.none(), st.integers(1, 12)))
#: Each adapter's binding runs the same mixin method with its own storage fixtures, and every
#: example writes its own key: fixtures and executors may be shared between examples.
_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.differing_executors,
                                            HealthCheck.too_slow])


@pytest.mark.timeout(600)
class PartitionerContract(StorageBinding):
    """Mixin of partitioner tests; bind the fixtures `storage` and `bucket`."""

    @pytest.fixture
    def partitioner_name(self) -> str:
        return "lines"

    @pytest.fixture
    def data_prefix(self, storage: StorageBackend, bucket: str) -> Iterator[str]:
        prefix = f"wren-contract/{uuid.uuid4().hex}/"
        yield prefix
        storage.delete_objects(bucket, storage.list_keys(bucket, prefix))

    def _chunks(self, storage: StorageBackend, bucket: str, key: str, data: bytes, name: str,
                newline: bytes, chunk_size: int | None = None,
                chunk_n: int | None = None) -> tuple[list[Partition], list[bytes]]:
        storage.put_object(bucket, key, data)
        size = storage.head_object(bucket, key).size
        partitioner = plugins.partitioner_class(name)(newline=newline)
        parts = partitioner.plan(key, size, chunk_size, chunk_n)

        def open_range(start: int, end: int) -> IO[bytes]:
            return storage.get_object_stream(bucket, key, (start, end))

        chunks = []
        for part in parts:
            with partitioner.open(part, open_range) as stream:
                chunks.append(stream.read())
        return parts, chunks

    def _assert_exact_lines(self, data: bytes, chunks: list[bytes], newline: bytes) -> None:
        assert b"".join(chunks) == data, "the chunks do not add up to the object"
        got = [line for chunk in chunks for line in split_lines(chunk, newline)]
        assert got == split_lines(data, newline), "a line was lost, doubled or split"
        offset = 0
        for chunk in chunks:
            offset += len(chunk)
            assert not chunk or chunk.endswith(newline) or offset == len(data), \
                "a chunk ends inside a line"

    @_SETTINGS
    @given(data=_FILES, chunking=_CHUNKING, newline=st.sampled_from([b"\n", b"\r\n"]))
    def test_chunks_hold_exactly_the_object_lines(self, storage: StorageBackend, bucket: str,
                                                  data_prefix: str, partitioner_name: str,
                                                  data: bytes,
                                                  chunking: tuple[int | None, int | None],
                                                  newline: bytes) -> None:
        key = data_prefix + uuid.uuid4().hex
        chunk_size, chunk_n = chunking
        if chunk_size is not None:  # at most ~40 chunks, so remote stores stay quick
            chunk_size = max(chunk_size, -(-len(data) // 40))
        parts, chunks = self._chunks(storage, bucket, key, data, partitioner_name, newline,
                                     chunk_size, chunk_n)
        assert [p.part for p in parts] == list(range(len(parts)))
        assert parts[0].start == 0 and parts[-1].end == len(data)
        self._assert_exact_lines(data, chunks, newline)
        storage.delete_object(bucket, key)

    def test_a_line_longer_than_several_chunks(self, storage: StorageBackend, bucket: str,
                                               data_prefix: str, partitioner_name: str) -> None:
        data = make_text(6 << 20, seed=3, long_line=5 << 20)
        _, chunks = self._chunks(storage, bucket, data_prefix + "long", data,
                                 partitioner_name, b"\n", chunk_size=1 << 20)
        assert len(chunks) == 7 and chunks.count(b"") >= 3
        assert max(len(c) for c in chunks) > 5 << 20
        self._assert_exact_lines(data, chunks, b"\n")

    @pytest.mark.parametrize("final_newline", [True, False])
    def test_crlf_files_with_and_without_final_newline(self, storage: StorageBackend, bucket: str,
                                                       data_prefix: str,
                                                       partitioner_name: str,
                                                       final_newline: bool) -> None:
        data = make_text(3 << 20, seed=5, newline=b"\r\n", final_newline=final_newline)
        for newline in (b"\n", b"\r\n"):
            _, chunks = self._chunks(storage, bucket, data_prefix + "crlf", data,
                                     partitioner_name, newline, chunk_size=1 << 20)
            self._assert_exact_lines(data, chunks, newline)
            assert len(chunks) == 4 and all(c.endswith(b"\r\n") for c in chunks[:2])

    def test_chunk_n_and_empty_objects(self, storage: StorageBackend, bucket: str, data_prefix: str,
                                       partitioner_name: str) -> None:
        data = make_text(100_000, seed=7)
        parts, chunks = self._chunks(storage, bucket, data_prefix + "n", data,
                                     partitioner_name, b"\n", chunk_n=6)
        assert len(parts) == 6 and all(p.total_parts == 6 for p in parts)
        self._assert_exact_lines(data, chunks, b"\n")
        parts, chunks = self._chunks(storage, bucket, data_prefix + "empty", b"",
                                     partitioner_name, b"\n", chunk_n=4)
        assert len(parts) == 1 and chunks == [b""]

    def test_exact_byte_ranges_without_newline(self, storage: StorageBackend, bucket: str,
                                               data_prefix: str) -> None:
        data = make_text(300_000, seed=9)
        key = data_prefix + "bytes"
        storage.put_object(bucket, key, data)
        partitioner = plugins.partitioner_class("bytes")()
        parts = partitioner.plan(key, len(data), chunk_size=65_536)
        for part in parts:
            with partitioner.open(part, lambda s, e: storage.get_object_stream(
                    bucket, key, (s, e))) as stream:
                assert stream.read() == data[part.start:part.end]

"""The `lines` and `bytes` partitioners in memory: the exact-lines property over many random
files, chunkings, separators and read patterns; bounded reads; the planning arithmetic."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wren import InvalidInputError, plugins
from wren.partition import BytePartitioner, LinePartitioner, split_ranges
from wren.partition.line_reader import MAX_TAIL_BLOCK
from wren.testing.textdata import make_text, split_lines

MiB = 1 << 20


class RecordingOpener:
    """Opens ranges of bytes in memory and remembers every range asked for."""

    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, []

    def __call__(self, start: int, end: int) -> io.BytesIO:
        self.calls.append((start, end))
        return io.BytesIO(self.data[start:end])


def _read(stream: Any, how: str, step: int) -> bytes:
    if how == "all":
        return stream.read()  # type: ignore[no-any-return]
    if how == "lines":
        return b"".join(stream)
    if how == "readline":
        return b"".join(iter(stream.readline, b""))
    return b"".join(iter(lambda: stream.read(step), b""))


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.tuples(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\x00", b"ab",
                                                  b"b", b"long" * 20]),
                                 st.integers(1, 40)), max_size=30),
       newline=st.sampled_from([b"\n", b"\r\n", b"\x00", b"ab"]),
       chunk=st.one_of(st.tuples(st.integers(1, 200), st.none()),
                       st.tuples(st.none(), st.integers(1, 30))),
       block=st.sampled_from([1, 2, 3, 16, 4096]),
       how=st.sampled_from(["all", "lines", "readline", "steps"]), step=st.integers(1, 9))
def test_chunks_concatenate_to_exactly_the_lines(pieces: list[tuple[bytes, int]],
                                                 newline: bytes, chunk: tuple[Any, Any],
                                                 block: int, how: str, step: int) -> None:
    data = b"".join(piece * n for piece, n in pieces)
    partitioner = LinePartitioner(newline, block=block)
    parts = partitioner.plan("mem", len(data), *chunk)
    opener = RecordingOpener(data)
    chunks = [_read(partitioner.open(part, opener), how, step) for part in parts]
    assert b"".join(chunks) == data
    assert [x for c in chunks for x in split_lines(c, newline)] == split_lines(data, newline)
    offset = 0
    for part, got in zip(parts, chunks, strict=True):
        if got:  # a chunk starts where a line starts, at or after its range's start
            assert offset >= part.start and (offset == 0 or data[:offset].endswith(newline))
        offset += len(got)


def test_reads_stay_near_the_partition_for_a_line_across_many_chunks() -> None:
    data = make_text(12 * MiB, seed=4, long_line=9 * MiB)
    partitioner = LinePartitioner()
    parts = partitioner.plan("mem", len(data), chunk_size=MiB)
    chunks = []
    for part in parts:
        opener = RecordingOpener(data)
        chunks.append(partitioner.open(part, opener).read())
        for start, end in opener.calls:
            assert start >= part.start - 1
            assert end - start <= max(part.chunk_size + 1, MAX_TAIL_BLOCK)
        asked = sum(end - start for start, end in opener.calls)
        assert asked <= part.chunk_size + 1 + (len(chunks[-1]) + MAX_TAIL_BLOCK
                                               if chunks[-1] else 0)
    assert sum(1 for c in chunks if not c) == 9  # chunks starting inside the 9 MiB line
    assert [x for c in chunks for x in split_lines(c)] == split_lines(data)


def test_a_chunk_ending_on_a_newline_reads_nothing_past_its_end() -> None:
    data = b"abc\n" * (MiB // 4)  # every 1 MiB boundary falls right after a newline
    partitioner = LinePartitioner()
    for part in partitioner.plan("mem", len(data), chunk_n=4):
        opener = RecordingOpener(data)
        assert partitioner.open(part, opener).read() == data[part.start:part.end]
        assert opener.calls == [(max(0, part.start - 1), part.end)]


def test_stream_supports_read_readline_and_iteration() -> None:
    data = b"one\ntwo\r\nthree"
    part = LinePartitioner().plan("mem", len(data))[0]
    stream = LinePartitioner().open(part, RecordingOpener(data))
    assert stream.readline() == b"one\n"
    assert stream.read(3) == b"two"
    assert list(stream) == [b"\r\n", b"three"]
    assert stream.read() == b""
    stream.close()


@pytest.mark.parametrize("newline", ["", b"", "aa", "\n\n", "abca", 5])
def test_ambiguous_or_empty_newlines_are_refused(newline: Any) -> None:
    with pytest.raises(InvalidInputError, match="obj_newline"):
        LinePartitioner(newline)


def test_bytes_partitioner_gives_exact_ranges() -> None:
    data = bytes(range(256)) * 10
    partitioner = BytePartitioner()
    parts = partitioner.plan("mem", len(data), chunk_size=1000)
    assert [partitioner.open(p, RecordingOpener(data)).read() for p in parts] == [
        data[0:1000], data[1000:2000], data[2000:2560]]


def test_partitioners_are_entry_points_rebuilt_from_their_options() -> None:
    lines = plugins.partitioner_class("lines")(newline="\r\n")
    assert isinstance(lines, LinePartitioner) and lines.name == "lines"
    assert type(lines)(**lines.options).newline == b"\r\n"
    assert plugins.partitioner_class("bytes") is BytePartitioner


@pytest.mark.parametrize(("size", "chunk_size", "chunk_n", "expected"), [
    (10, None, None, [(0, 10)]),
    (0, 4, None, [(0, 0)]),
    (0, None, 3, [(0, 0)]),
    (10, 4, None, [(0, 4), (4, 8), (8, 10)]),
    (10, 5, None, [(0, 5), (5, 10)]),
    (10, None, 3, [(0, 3), (3, 6), (6, 10)]),
    (2, None, 5, [(0, 1), (1, 2)]),
    (10, 4, 2, [(0, 5), (5, 10)]),
])
def test_split_ranges(size: int, chunk_size: int | None, chunk_n: int | None,
                      expected: list[tuple[int, int]]) -> None:
    assert split_ranges(size, chunk_size, chunk_n) == expected


@pytest.mark.parametrize(("chunk_size", "chunk_n"), [(0, None), (None, 0), (-1, None),
                                                     (1.5, None), (True, None)])
def test_split_ranges_refuses_bad_values(chunk_size: Any, chunk_n: Any) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        split_ranges(10, chunk_size, chunk_n)

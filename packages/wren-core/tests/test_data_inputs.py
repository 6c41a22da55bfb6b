"""Parsing map inputs and chunking options: every accepted form, and clear errors for the
rest, before anything is listed or invoked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from wren import CloudObject, InvalidInputError
from wren.dataproc import MIN_CHUNK_SIZE, ChunkingOptions
from wren.dataproc.inputs import InputSpec, parse_input


@pytest.mark.parametrize(("value", "expected"), [
    ("localhost://b/k.txt", InputSpec("object", "localhost://b/k.txt", "k.txt", "b", "localhost")),
    ("localhost://b/dir/", InputSpec("prefix", "localhost://b/dir/", "dir/", "b", "localhost")),
    ("localhost://b", InputSpec("prefix", "localhost://b", "", "b", "localhost")),
    ("cos://b/k", InputSpec("object", "cos://b/k", "k", "b", "ibm_cos")),
    ("s3://b/p/", InputSpec("prefix", "s3://b/p/", "p/", "b", "ibm_cos")),
    ("b/a/b/c.csv", InputSpec("object", "b/a/b/c.csv", "a/b/c.csv", "b")),
    ("b/", InputSpec("prefix", "b/", "", "b")),
    ("https://h.example/x?y=1", InputSpec("url", "https://h.example/x?y=1",
                                          "https://h.example/x?y=1")),
    ("HTTP://h/x", InputSpec("url", "HTTP://h/x", "HTTP://h/x")),
    ("/data/f.txt", InputSpec("path", "/data/f.txt", "/data/f.txt")),
    ("./f.txt", InputSpec("path", "./f.txt", "./f.txt")),
    ("file:///tmp/a%20b.txt", InputSpec("path", "file:///tmp/a%20b.txt", "/tmp/a b.txt")),
])
def test_accepted_forms(value: str, expected: InputSpec) -> None:
    assert parse_input(value) == expected


def test_cloudobject_paths_and_home() -> None:
    assert parse_input(CloudObject("localhost", "b", "k/1")) == InputSpec(
        "object", "localhost://b/k/1", "k/1", "b", "localhost")
    assert parse_input(Path("/x/y")) == InputSpec("path", "/x/y", "/x/y")
    assert parse_input("~/f").key == str(Path.home() / "f")


@pytest.mark.parametrize(("value", "message"), [
    ("bucketonly", "neither an object nor a prefix"),
    ("localhost:///k", "names no bucket"),
    ("file://", "names no file path"),
    ("", "cannot read map input"),
    (42, "cannot read map input"),
    (None, "cannot read map input"),
])
def test_refused_forms(value: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_input(value)


def test_chunking_defaults_and_aliases() -> None:
    assert ChunkingOptions.from_arguments() == ChunkingOptions(None, None, b"\n")
    assert not ChunkingOptions.from_arguments().chunked
    options = ChunkingOptions.from_arguments(obj_chunk_size=2 * MIN_CHUNK_SIZE)
    assert options.chunk_size == 2 * MIN_CHUNK_SIZE and options.chunked
    assert ChunkingOptions.from_arguments(obj_chunk_number=4).chunk_n == 4
    both = ChunkingOptions.from_arguments(chunk_size=MIN_CHUNK_SIZE, chunk_n=3)
    assert (both.chunk_size, both.chunk_n) == (None, 3)
    assert ChunkingOptions.from_arguments(chunk_size=MIN_CHUNK_SIZE,
                                          obj_chunk_size=MIN_CHUNK_SIZE).chunked
    assert ChunkingOptions.from_arguments(obj_newline="\r\n").newline == b"\r\n"
    assert ChunkingOptions.from_arguments(obj_newline=None).partitioner().name == "bytes"
    lines = ChunkingOptions.from_arguments(obj_newline=b"\x00").partitioner()
    assert lines.name == "lines" and lines.options == {"newline": b"\x00"}


@pytest.mark.parametrize(("arguments", "message"), [
    ({"chunk_size": MIN_CHUNK_SIZE - 1}, "at least 1 MiB"),
    ({"obj_chunk_size": 1000}, "at least 1 MiB"),
    ({"chunk_size": 2.5e6}, "must be an integer"),
    ({"chunk_n": 0}, "at least 1"),
    ({"chunk_n": True}, "must be an integer"),
    ({"chunk_n": 2, "obj_chunk_number": 3}, "disagree"),
    ({"obj_newline": ""}, "non-empty"),
    ({"obj_newline": "\n\n"}, "could overlap"),
])
def test_bad_chunking_is_refused(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ChunkingOptions.from_arguments(**arguments)

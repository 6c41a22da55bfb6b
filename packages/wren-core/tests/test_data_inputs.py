"""Parsing map inputs and chunking options: every accepted form, and clear errors for the
rest, before anything is listed or invoked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from wren import CloudObject, InvalidInputError, plugins
from wren.dataproc import MIN_CHUNK_SIZE, ChunkingOptions
from wren.dataproc.inputs import InputSpec, parse_input
from wren.testing import MemoryStorage


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
    ({"chunk_size": 0}, "at least 1"),
    ({"obj_chunk_size": -5}, "at least 1"),
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


def test_small_chunk_sizes_work_with_one_warning(caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Lithops takes any obj_chunk_size; wren warns (once) below 1 MiB instead of refusing
    from wren.dataproc import options

    monkeypatch.setattr(options, "_warned_small", False)
    with caplog.at_level(logging.WARNING, logger="wren"):
        assert ChunkingOptions.from_arguments(chunk_size=1).chunk_size == 1
        assert ChunkingOptions.from_arguments(obj_chunk_size=1000).chunk_size == 1000
        assert ChunkingOptions.from_arguments(chunk_size=MIN_CHUNK_SIZE).chunk_size
    assert [r.getMessage()[:28] for r in caplog.records] == ["chunk_size=1 is below 1 MiB:"]


class _FooStorage(MemoryStorage):
    """A vendor's storage that serves `foo://` URLs (and `bar://`, which `_OtherStorage`
    claims as well)."""

    name: ClassVar[str] = "foo_store"
    url_schemes: ClassVar[tuple[str, ...]] = ("foo", "bar")


class _OtherStorage(MemoryStorage):
    name: ClassVar[str] = "other_store"
    url_schemes: ClassVar[tuple[str, ...]] = ("bar",)


class _EntryPoint:
    def __init__(self, name: str, cls: type) -> None:
        self.name, self.value, self.dist, self._cls = name, f"tests:{cls.__name__}", None, cls

    def load(self) -> type:
        return self._cls


@pytest.fixture
def vendor_storages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`foo_store` and `other_store` installed as storage backends (nothing else is)."""
    installed = {"foo_store": _EntryPoint("foo_store", _FooStorage),
                 "other_store": _EntryPoint("other_store", _OtherStorage)}
    plugins.clear_cache()
    monkeypatch.setattr(plugins, "_scan", lambda group: dict(installed)
                        if group == plugins.STORAGE_GROUP else {})
    yield
    monkeypatch.undo()
    plugins.clear_cache()


@pytest.mark.usefixtures("vendor_storages")
def test_a_scheme_goes_to_the_storage_backend_that_declares_it() -> None:
    assert parse_input("foo://bucket/key") == InputSpec(
        "object", "foo://bucket/key", "key", "bucket", "foo_store")
    assert parse_input("FOO://bucket/dir/").backend == "foo_store"
    assert parse_input("foo_store://bucket/key").backend == "foo_store"  # its own name
    assert plugins.storage_schemes() == {"bar": ("foo_store", "other_store"),
                                         "foo": ("foo_store",)}


@pytest.mark.usefixtures("vendor_storages")
def test_a_scheme_no_backend_declares_stays_as_written() -> None:
    # discovery then says it is not installed, with the schemes that are
    assert parse_input("s3://bucket/key").backend == "s3"


@pytest.mark.usefixtures("vendor_storages")
def test_a_scheme_two_backends_declare_asks_for_the_backend_name() -> None:
    with pytest.raises(InvalidInputError, match="scheme 'bar' is served by storage backends "
                                                "foo_store, other_store.*'foo_store://b/k'"):
        parse_input("bar://b/k")


def test_the_s3_schemes_are_declared_by_the_adapter_that_serves_s3() -> None:
    # with wren-backend-ibmcf installed (as in this repository's environments)
    assert parse_input("s3://b/k").backend == plugins.storage_schemes()["s3"][0]

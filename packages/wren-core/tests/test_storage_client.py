"""`wren.Storage` beyond the contract: how it finds its backend (configuration, a worker's
own storage, an open adapter), and the Range-header arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import wren
from wren import context
from wren.storage_api.ranges import parse_range_header
from wren.testing import MemoryStorage


def test_storage_loads_the_configuration_like_the_executor(tmp_path: Path) -> None:
    config = {"localhost": {"storage_dir": str(tmp_path), "storage_bucket": "mine"}}
    storage = wren.Storage(config=config)
    assert storage.backend == "localhost" and storage.bucket == "mine"
    storage.put_object("mine", "a/b", "text")
    assert (tmp_path / "mine" / "a" / "b").read_bytes() == b"text"
    assert wren.Storage(config=config, backend="localhost").get_object("mine", "a/b") == b"text"


def test_storage_reads_config_files(tmp_path: Path, home_dir: Path) -> None:
    (home_dir / ".wren").mkdir()
    (home_dir / ".wren" / "config").write_text(
        f"wren:\n  storage: localhost\nlocalhost:\n  storage_dir: {tmp_path}\n")
    wren.Storage().put_object("wren", "k", b"v")
    assert (tmp_path / "wren" / "k").read_bytes() == b"v"


def test_unknown_backend_names_the_installed_ones() -> None:
    with pytest.raises(wren.BackendNotFoundError, match="localhost"):
        wren.Storage(backend="no_such_store")


def test_inside_a_worker_storage_wraps_the_worker_storage() -> None:
    backend = MemoryStorage()
    context.set_current(backend, None)
    try:
        storage = wren.Storage()
        assert storage.storage_handler is backend and storage.backend == "memory"
        cloud_object = storage.put_cloudobject(b"payload")
        assert cloud_object.bucket == "wren" and cloud_object.backend == "memory"
        assert backend.get_object("wren", cloud_object.key) == b"payload"
    finally:
        context.set_current(None, None)


def test_from_backend_and_repr() -> None:
    storage = wren.Storage.from_backend(MemoryStorage())
    assert repr(storage) == "Storage(backend='memory')"


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-9", (0, 10)), ("bytes=5-", (5, 100)), ("bytes=-10", (90, 100)),
    ("bytes=-500", (0, 100)), ("bytes = 3 - 4", (3, 5)), ("bytes=200-", (200, 200)),
])
def test_range_headers(header: str, expected: tuple[int, int]) -> None:
    assert parse_range_header(header, lambda: 100) == expected


@pytest.mark.parametrize("header", ["bytes=-", "bytes=5-2", "items=1-2", "1-2", ""])
def test_bad_range_headers(header: str) -> None:
    with pytest.raises(wren.InvalidInputError):
        parse_range_header(header, lambda: 100)

"""`await_metadata`: a runtime's metadata from a one-off run, or the run's failure at once."""

from __future__ import annotations

import threading
import time

import pytest
import wren
from wren.ports import WorkerStorage
from wren.ports.runtime_probe import MetadataTarget, await_metadata
from wren.testing import MemoryStorage
from wren.worker.metadata import runtime_metadata

#: The worker storage's whole config holds a token; only its public part may travel.
WHERE = WorkerStorage("memory", {"region": "r1", "token": "t"}, {"region": "r1"})
TARGET = MetadataTarget.of(WHERE, "b", "wren.runtimes/x.json")


def test_the_target_travels_without_credentials() -> None:
    assert "token" not in TARGET.to_env()
    assert MetadataTarget.from_env(TARGET.to_env()) == TARGET


def test_the_metadata_the_run_writes_is_read_and_validated() -> None:
    storage = MemoryStorage()
    later = threading.Timer(0.3, storage.put_object, (
        "b", TARGET.key, runtime_metadata("img:1", platform="test").encode()))
    later.start()
    info = await_metadata(storage, TARGET, "img:1", timeout=10, failure=lambda: None,
                          where="run r", interval=0.05)
    assert (info.name, info.wren_version) == ("img:1", wren.__version__)


def test_a_failed_run_is_an_error_at_once_with_the_platforms_reason() -> None:
    started = time.monotonic()
    with pytest.raises(wren.RuntimeMismatchError, match=r"ErrImagePull: not found \(run r\)"):
        await_metadata(MemoryStorage(), TARGET, "img:1", timeout=60,
                       failure=lambda: "ErrImagePull: not found", where="run r")
    assert time.monotonic() - started < 5


def test_a_run_that_writes_nothing_times_out_with_the_fix() -> None:
    with pytest.raises(wren.RuntimeMismatchError, match="wrote no metadata within 0.2 s"):
        await_metadata(MemoryStorage(), TARGET, "img:1", timeout=0.2, failure=lambda: None,
                       where="run r", interval=0.05)


def test_what_is_stored_is_data_never_code() -> None:
    storage = MemoryStorage()
    storage.put_object("b", TARGET.key, b"\x80\x04cos\nsystem\n.")  # a pickle, not metadata
    with pytest.raises(wren.RuntimeMismatchError, match="not JSON"):
        await_metadata(storage, TARGET, "img:1", timeout=1, failure=lambda: None, where="r")

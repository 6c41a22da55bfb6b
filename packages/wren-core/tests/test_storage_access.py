"""`open_storage`: one storage object per distinct configuration, and the configuration of
the last call recognised without encoding it again (what a worker asks task after task)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wren.worker import storage_access
from wren.worker.storage_access import open_storage


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_access, "_cache", {})
    monkeypatch.setattr(storage_access, "_last", None)


def test_the_same_settings_give_the_same_storage_and_others_another(tmp_path: Path) -> None:
    a, b = {"storage_dir": str(tmp_path / "a")}, {"storage_dir": str(tmp_path / "b")}
    first = open_storage("localhost", a, {"shared_memory": False})
    assert open_storage("localhost", dict(a), {"shared_memory": False}) is first
    assert open_storage("localhost", b, {"shared_memory": False}) is not first
    assert open_storage("localhost", a, {"shared_memory": False}) is first  # from the cache
    assert open_storage("localhost", a, {"shared_memory": True}) is not first


def test_the_last_settings_are_recognised_without_encoding_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    public, private = {"storage_dir": str(tmp_path / "a")}, {"shared_memory": False}
    first = open_storage("localhost", public, private)
    encoded = []
    original = json.dumps
    monkeypatch.setattr(storage_access.json, "dumps",
                        lambda *args, **kwargs: encoded.append(1) or original(*args, **kwargs))
    assert open_storage("localhost", dict(public), dict(private)) is first and encoded == []
    public["storage_dir"] = str(tmp_path / "b")  # the caller's dict, changed afterwards
    assert open_storage("localhost", public, private) is not first and encoded == [1]

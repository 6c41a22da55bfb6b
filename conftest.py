"""Test isolation for the whole repository: no test reads the developer's own wren
configuration (`~/.wren/config`, `WREN_CONFIG_FILE`) or writes into their temp storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_wren_environment(tmp_path_factory: pytest.TempPathFactory,
                               monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("WREN_CONFIG_FILE", raising=False)
    monkeypatch.chdir(home)
    yield


@pytest.fixture
def home_dir() -> Path:
    return Path.home()

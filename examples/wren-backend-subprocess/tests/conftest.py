"""Keep the developer's own wren configuration out of the tests: each test gets an empty
home directory as HOME and as its working directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    home: Path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("WREN_CONFIG_FILE", raising=False)
    monkeypatch.chdir(home)

"""Test isolation for the whole repository: no test reads the developer's own wren or Lithops
configuration (`~/.wren/config`, `WREN_CONFIG_FILE`, `LITHOPS_CONFIG_FILE`,
`/etc/lithops/config`) or writes into their temp storage, and each test sees the once-per-process
config notices afresh."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_wren_environment(tmp_path_factory: pytest.TempPathFactory,
                               monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("WREN_CONFIG_FILE", raising=False)
    monkeypatch.delenv("LITHOPS_CONFIG_FILE", raising=False)
    monkeypatch.chdir(home)
    try:
        from wren.config import lithops_keys, loader
    except ImportError:  # an environment without wren-core
        pass
    else:
        lithops_keys.forget_notices()
        monkeypatch.setattr(loader, "LITHOPS_GLOBAL_FILE", home / "etc-lithops-config")
    yield


@pytest.fixture
def home_dir() -> Path:
    return Path.home()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh temp directory standing in for /tmp (sticky, world-writable like it), so the
    per-user `<tmp>/wren-<uid>` is this test's, under a umask of 022."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    old = os.umask(0o022)
    yield tmp
    os.umask(old)

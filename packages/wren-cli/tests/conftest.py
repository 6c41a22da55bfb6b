"""Fixtures of the CLI tests: the `wren` group run in-process, and a fake backend
distribution installed on `sys.path` for the duration of a test."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent))

import fake_plugin
from wren import plugins
from wren_cli.main import cli


@pytest.fixture(autouse=True)
def _forget_config_file() -> Iterator[None]:
    """`-c FILE` exports WREN_CONFIG_FILE for the process; never let it leak."""
    yield
    os.environ.pop("WREN_CONFIG_FILE", None)


@pytest.fixture
def fake_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    site = tmp_path / "site"
    site.mkdir()
    fake_plugin.install(site)
    monkeypatch.syspath_prepend(str(site))
    plugins.clear_cache()
    import wren_backend_fake  # type: ignore[import-not-found]

    wren_backend_fake.FakeCompute.deployed.clear()
    wren_backend_fake.FakeCompute.calls.clear()
    yield wren_backend_fake.FakeCompute
    sys.modules.pop("wren_backend_fake", None)
    plugins.clear_cache()


@pytest.fixture
def storage_config(tmp_path: Path) -> Path:
    """A config file whose localhost storage lives in this test's directory."""
    config = tmp_path / "wren.yaml"
    config.write_text(f"localhost:\n  storage_dir: {tmp_path / 'storage'}\n")
    return config


@pytest.fixture
def wren_cli() -> Callable[..., Result]:
    def run(*args: str, input: bytes | str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run

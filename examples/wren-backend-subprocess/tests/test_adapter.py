"""What the contracts cannot know about compute `subprocess`: it is found through its entry
point, its own config key arrives as a flat keyword, and the executor's key never reaches
storage."""

from __future__ import annotations

import base64
from pathlib import Path

import wren
from wren import plugins
from wren_backend_subprocess import SubprocessCompute


def test_the_entry_point_finds_the_backend() -> None:
    assert plugins.compute_backend_class("subprocess") is SubprocessCompute


def test_the_python_key_is_a_flat_keyword(tmp_path: Path) -> None:
    import sys

    with wren.FunctionExecutor(backend="subprocess", storage="localhost",
                               storage_dir=str(tmp_path / "s"), python=sys.executable,
                               max_workers=2) as fexec:
        assert fexec.get_result(fexec.map(abs, [-1, -2, 3]), timeout=60) == [1, 2, 3]
        assert fexec.compute.config["python"] == sys.executable
        assert fexec.compute.max_workers == 2


def test_the_key_is_never_written_to_storage(tmp_path: Path) -> None:
    storage_dir = tmp_path / "s"
    with wren.FunctionExecutor(backend="subprocess", storage="localhost",
                               storage_dir=str(storage_dir)) as fexec:
        assert fexec.get_result(fexec.map(abs, range(5)), timeout=60) == list(range(5))
        key = fexec._key
    encoded = (key, base64.b64encode(key), key.hex().encode())
    for path in storage_dir.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert not any(form in body for form in encoded), path

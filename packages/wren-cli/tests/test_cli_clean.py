"""`wren clean [--all]` touches this user's storage and cache only: another user's module
directory, a planted link at the per-user path and other files in a shared cache directory
all survive it, and `--all` without a container engine still succeeds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from wren.cache import cache_dir
from wren.private_dirs import ensure_private_dir, user_dir
from wren.worker.module_installer import default_cache_dir
from wren_cli import cli

NO_ENGINE = "unix:///nonexistent/wren-test-no-engine.sock"


@pytest.fixture(autouse=True)
def _no_container_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)


def _clean(storage_config: Path) -> Result:
    return CliRunner().invoke(cli, ["clean", "--all", "-b", "localhost", "-c",
                                    str(storage_config)])


def _file(path: Path, text: str = "keep me") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_all_without_a_container_engine_cleans_and_succeeds(
        private_tmp: Path, storage_config: Path) -> None:
    mine = _file(ensure_private_dir(default_cache_dir(), fix="-") / "abc" / "mod.py")
    metadata = _file(cache_dir("runtimes", "localhost", "x.json"))
    result = _clean(storage_config)
    assert result.exit_code == 0, result.output
    assert not mine.exists() and not metadata.exists()
    assert "no runtimes to delete on backend 'localhost'" in result.output
    assert "cannot reach a container engine" in result.output


def test_a_link_planted_at_the_per_user_directory_is_not_followed(
        private_tmp: Path, storage_config: Path, tmp_path: Path) -> None:
    victim = _file(tmp_path / "someone-else" / "modules" / "theirs.py")
    user_dir().symlink_to(victim.parent.parent)
    result = _clean(storage_config)
    assert victim.exists(), "wren clean followed a link to another directory"
    assert result.exit_code == 0, result.output
    assert "wren left" in result.output and "is a symbolic link" in result.output


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to give a directory to another user")
def test_another_users_module_directory_survives(private_tmp: Path,
                                                 storage_config: Path) -> None:
    theirs = _file(ensure_private_dir(default_cache_dir(), fix="-") / "d" / "theirs.py")
    os.chown(user_dir(), 4242, 4242)
    result = _clean(storage_config)
    assert theirs.exists(), "wren clean deleted another user's directory"
    assert result.exit_code == 0, result.output
    assert "is owned by uid 4242" in result.output


def test_other_files_in_a_shared_cache_directory_survive(
        private_tmp: Path, storage_config: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    monkeypatch.setenv("WREN_CACHE_DIR", str(shared))
    other = _file(shared / "notes.txt")
    ours = _file(shared / "runtimes" / "localhost" / "y.json")
    result = _clean(storage_config)
    assert other.exists(), "wren clean deleted a file it did not make"
    assert result.exit_code == 0, result.output
    assert not ours.exists()


def test_objects_outside_wrens_prefixes_survive(private_tmp: Path,
                                                storage_config: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["hello", "-c", str(storage_config)]).exit_code == 0
    bucket = next((storage_config.parent / "storage").iterdir())
    data = _file(bucket / "data" / "input.csv")
    made = _file(bucket / "wren.cloudobjects" / "1234")
    result = _clean(storage_config)
    assert result.exit_code == 0, result.output
    assert data.exists() and made.exists()
    assert [p for p in bucket.rglob("*.fn")] == []

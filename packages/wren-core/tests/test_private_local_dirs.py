"""The local directories a worker trusts are private, tried as another local user would
attack them: the module cache a worker imports shipped modules from is created 0700 and
refused (before anything in it is imported) when someone else owns it, can write it or
planted a symbolic link; and the worker pool removes its `wren-pool-*` directory when it
shuts down."""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from wren import StorageError
from wren.private_dirs import ensure_private_dir, user_dir
from wren.worker import module_installer
from wren.worker.pool.supervisor import WorkerPool

ATTACKER_UID = 12345
MODULE = "wren_planted_mod"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def tmp_home(private_tmp: Path, tmp_path: Path) -> Iterator[Path]:
    """The repository's `private_tmp`; afterwards, forget the modules a test planted."""
    yield private_tmp
    for name in [m for m in sys.modules if m == MODULE]:
        del sys.modules[name]
    module_installer._active.pop(MODULE, None)
    sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]


def _archive(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(f"{MODULE}.py", source)
    return buffer.getvalue()


def test_the_module_cache_is_created_private(tmp_home: Path) -> None:
    module_installer.activate(_archive("VALUE = 7\n"), "d1")
    cache = tmp_home / f"wren-{os.geteuid()}" / "modules"
    assert module_installer.default_cache_dir() == cache
    assert _mode(cache.parent) == _mode(cache) == 0o700
    assert _mode(cache / "d1") == 0o700
    assert __import__(MODULE).VALUE == 7


def _plant_module(cache: Path, digest: str, canary: Path) -> None:
    """A module under the digest a worker will activate, that creates `canary` on import."""
    planted = cache / digest
    planted.mkdir(parents=True)
    (planted / f"{MODULE}.py").write_text(f"open({str(canary)!r}, 'w').close()\n")


@pytest.mark.parametrize("attack", ["foreign cache", "foreign user dir",
                                    "world-writable user dir", "symbolic link"])
def test_a_module_cache_someone_else_prepared_is_refused(attack: str, tmp_home: Path,
                                                         tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    home = tmp_home / f"wren-{os.geteuid()}"
    cache = home / "modules"
    if attack == "symbolic link":
        elsewhere = tmp_home / "attacker"
        _plant_module(elsewhere / "modules", "d1", canary)
        home.symlink_to(elsewhere)
        os.lchown(home, ATTACKER_UID, ATTACKER_UID)
        refused, found = home, "is a symbolic link"
    else:
        _plant_module(cache, "d1", canary)
        if attack == "foreign cache":
            os.chown(cache, ATTACKER_UID, ATTACKER_UID)
            refused, found = cache, f"owned by uid {ATTACKER_UID}"
        elif attack == "foreign user dir":
            os.chown(home, ATTACKER_UID, ATTACKER_UID)
            refused, found = home, f"owned by uid {ATTACKER_UID}"
        else:
            home.chmod(0o777)
            refused, found = home, "mode 0777"
    with pytest.raises(StorageError) as caught:
        module_installer.activate(_archive("VALUE = 7\n"), "d1")
        __import__(MODULE)
    assert str(refused) in str(caught.value) and found in str(caught.value)
    assert "remove it" in str(caught.value)
    assert not canary.exists()


def test_a_private_dir_outside_the_user_dir_is_checked_too(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o770)
    with pytest.raises(StorageError, match="writable by other users.*mode 0770.*fix it: X"):
        ensure_private_dir(shared, fix="X")
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(StorageError, match="is not a directory"):
        ensure_private_dir(file, fix="X")
    assert user_dir() == Path(tempfile.gettempdir()) / f"wren-{os.geteuid()}"


def test_the_pool_removes_its_directory_on_shutdown(tmp_home: Path) -> None:
    pool = WorkerPool()
    try:
        (made,) = [p for p in tmp_home.iterdir() if p.name.startswith("wren-pool-")]
        assert _mode(made) == 0o700
        pool.ensure_size(1)
    finally:
        pool.shutdown()
    assert not [p for p in tmp_home.iterdir() if p.name.startswith("wren-pool-")]
    pool.shutdown()  # again, as the exit hook does: nothing to remove, no error


@pytest.mark.parametrize("attack", ["foreign cache", "foreign user dir", "symbolic link",
                                    "linked cache"])
def test_removing_the_module_cache_leaves_what_is_not_ours(attack: str, tmp_home: Path,
                                                           tmp_path: Path) -> None:
    home = tmp_home / f"wren-{os.geteuid()}"
    elsewhere = tmp_path / "someone-else"
    theirs = elsewhere / "modules" / "d1" / f"{MODULE}.py"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("")
    if attack == "symbolic link":
        home.symlink_to(elsewhere)
    elif attack == "linked cache":
        home.mkdir(mode=0o700)
        (home / "modules").symlink_to(elsewhere / "modules")
    else:
        home.mkdir(mode=0o700)
        os.rename(elsewhere / "modules", home / "modules")
        theirs = home / "modules" / "d1" / f"{MODULE}.py"
        os.chown(home / "modules" if attack == "foreign cache" else home,
                 ATTACKER_UID, ATTACKER_UID)
    with pytest.raises(StorageError, match="wren left .* alone: it (is a symbolic link|is "
                                           f"owned by uid {ATTACKER_UID})"):
        module_installer.remove_cache()
    assert theirs.exists()


def test_removing_the_module_cache_deletes_our_own(tmp_home: Path) -> None:
    assert module_installer.remove_cache() is False
    module_installer.activate(_archive("VALUE = 7\n"), "d1")
    assert module_installer.remove_cache() is True
    assert not module_installer.default_cache_dir().exists()
    assert user_dir().is_dir(), "only the module cache goes, not the per-user directory"

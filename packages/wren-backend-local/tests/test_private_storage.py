"""Localhost storage is private to the user, tried as another local user would attack it:
the directories wren creates are 0700 and its objects 0600; a storage directory that someone
else created first (foreign owner, writable by others, a symbolic link) is refused with an
error naming the path, what was found and the fix, before anything planted in it is loaded;
and a client leaves no `wren-pool-*` directory behind when it exits."""

from __future__ import annotations

import os
import pickle
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import wren
from wren import StorageError
from wren.protocol import keys
from wren.serialize.function_blob import MAGIC
from wren_backend_local import LocalhostStorage
from wren_backend_local.config import default_storage_dir

ATTACKER_UID = 12345


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def double(x: int) -> int:
    return 2 * x


class _Touch:
    """A pickle that creates `path` when it is loaded: what an attacker's payload does."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture
def tmp_home(private_tmp: Path) -> Path:
    """The repository's `private_tmp`: `<tmp>/wren-<uid>` is this test's."""
    return private_tmp


def test_created_directories_are_0700_and_objects_0600(tmp_home: Path) -> None:
    storage = LocalhostStorage({"storage_dir": default_storage_dir()})
    storage.put_object("wren", "jobs/j1/status/0", b"{}")
    home = tmp_home / f"wren-{os.geteuid()}"
    for directory in (home, home / "storage", home / "storage" / "wren",
                      home / "storage" / "wren" / "jobs", home / "storage" / "wren" / "jobs" /
                      "j1" / "status"):
        assert _mode(directory) == 0o700, directory
    assert _mode(home / "storage" / "wren" / "jobs" / "j1" / "status" / "0") == 0o600
    storage.create_bucket("other")
    assert _mode(home / "storage" / "other") == 0o700


def test_a_configured_directory_is_created_0700(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        LocalhostStorage({"storage_dir": str(tmp_path / "a" / "b")}).put_object("x", "k", b"1")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "a" / "b" / "x" / "k") == 0o600


def test_a_readable_per_user_directory_of_an_older_version_is_tightened(tmp_home: Path) -> None:
    home = tmp_home / f"wren-{os.geteuid()}"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    LocalhostStorage({"storage_dir": default_storage_dir()}).put_object("wren", "k", b"1")
    assert _mode(home) == 0o700


def _plant(directory: Path, canary: Path, function_key: str) -> None:
    """What another local user leaves in a storage directory they created first: a function
    blob under the key wren's own `double` is stored at (so the client would skip its
    upload and a worker would load it) and a pickled status document."""
    pickled = pickle.dumps(_Touch(canary))
    blob = directory / "wren" / function_key
    blob.parent.mkdir(parents=True)
    blob.write_bytes(MAGIC + struct.pack(">Q", len(pickled)) + pickled)
    status = directory / "wren" / "wren.jobs" / "x-M000" / "status" / "00000.T0"
    status.parent.mkdir(parents=True)
    status.write_bytes(pickled)


@pytest.fixture(scope="module")
def function_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The key `double` is stored under, learned as an attacker would: by running it."""
    clean = tmp_path_factory.mktemp("clean")
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(clean), worker_processes=1) as fexec:
        fexec.call_async(double, 21)
        assert fexec.get_result() == 42
        (key,) = fexec.storage.list_keys(fexec.bucket, keys.FUNCS_PREFIX)
    return key


def _chown_tree(path: Path, uid: int) -> None:
    for directory, dirs, files in os.walk(path):
        os.chown(directory, uid, uid)
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), uid, uid)


@pytest.mark.parametrize("attack", ["foreign owner", "world-writable", "symbolic link",
                                    "foreign configured dir"])
def test_a_storage_directory_someone_else_prepared_is_refused(
        attack: str, tmp_home: Path, tmp_path: Path, function_key: str) -> None:
    canary = tmp_path / "canary"
    home = tmp_home / f"wren-{os.geteuid()}"
    storage_dir = default_storage_dir()
    if attack == "foreign owner":
        _plant(home / "storage", canary, function_key)
        _chown_tree(home, ATTACKER_UID)
        refused, found = home, f"owned by uid {ATTACKER_UID}"
    elif attack == "world-writable":
        _plant(home / "storage", canary, function_key)
        home.chmod(0o777)
        refused, found = home, "mode 0777"
    elif attack == "symbolic link":
        elsewhere = tmp_home / "attacker"
        _plant(elsewhere / "storage", canary, function_key)
        _chown_tree(elsewhere, ATTACKER_UID)
        home.symlink_to(elsewhere)
        os.lchown(home, ATTACKER_UID, ATTACKER_UID)
        refused, found = home, "is a symbolic link"
    else:
        shared = tmp_path / "shared"
        _plant(shared, canary, function_key)
        _chown_tree(shared, ATTACKER_UID)
        storage_dir, refused, found = str(shared), shared, f"owned by uid {ATTACKER_UID}"

    with (wren.FunctionExecutor(backend="localhost", storage="localhost",
                                storage_dir=storage_dir, worker_processes=1) as fexec,
          pytest.raises(StorageError) as caught):
        fexec.call_async(double, 21)
    message = str(caught.value)
    assert str(refused) in message and found in message
    assert "localhost.storage_dir" in message and "remove" in message
    storage = LocalhostStorage({"storage_dir": storage_dir})
    with pytest.raises(StorageError, match="refuses to use the directory"):
        storage.get_object("wren", "wren.jobs/x-M000/status/00000.T0")
    assert not canary.exists()


def test_an_object_write_does_not_follow_a_planted_link(tmp_path: Path) -> None:
    storage = LocalhostStorage({"storage_dir": str(tmp_path / "s")})
    storage.put_object("b", "k", b"mine")
    target = tmp_path / "victim"
    target.write_bytes(b"untouched")
    (tmp_path / "s" / "b" / "k").unlink()
    (tmp_path / "s" / "b" / "k").symlink_to(target)
    storage.put_object("b", "k", b"new")  # replaces the link itself, atomically
    assert target.read_bytes() == b"untouched"
    assert not (tmp_path / "s" / "b" / "k").is_symlink()
    assert _mode(tmp_path / "s" / "b" / "k") == 0o600


CLIENT = """
import wren
with wren.FunctionExecutor(backend="localhost", storage="localhost", storage_dir={storage!r},
                           worker_processes=2, pool_idle_timeout=0) as fexec:
    fexec.map(abs, [-1, -2, -3])
    assert fexec.get_result() == [1, 2, 3]
"""


def test_a_client_leaves_no_pool_directory_when_it_exits(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    code = CLIENT.format(storage=str(tmp_path / "storage"))
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    left = sorted(p.name for p in tmpdir.iterdir())
    assert not [name for name in left if name.startswith("wren-pool-")], left


def test_warming_up_makes_the_storage_directory_and_leaves_a_refusal_to_the_first_use(
        tmp_path: Path) -> None:
    good = tmp_path / "good" / "storage"
    LocalhostStorage({"storage_dir": str(good)}).warm_up("wren")
    assert good.is_dir() and _mode(good) == 0o700  # made private before the first job
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    storage = LocalhostStorage({"storage_dir": str(shared)})
    storage.warm_up("wren")  # a refused directory does not fail the executor's creation
    with pytest.raises(StorageError, match="mode 0777"):
        storage.get_object("wren", "wren.jobs/x-0/M000/status/t0.0000.status")

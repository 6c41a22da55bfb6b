"""Test isolation for the whole repository: no test reads the developer's own wren or Lithops
configuration (`~/.wren/config`, `WREN_CONFIG_FILE`, `LITHOPS_CONFIG_FILE`,
`/etc/lithops/config`) or writes into their temp storage, and each test sees the once-per-process
config notices afresh. Localhost executors run calls in the test process's own worker pool:
the user's shared pool server is off (its own tests turn it on, with a private directory),
and `WREN_POOL_DIR` points at this session's directory, so no test talks to a developer's
server. `WREN_TEST_POOL_SERVER=1` runs every test's calls through one server of the session
instead (tests that look into the in-process pool, `get_pool()`, then fail by design)."""

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
    monkeypatch.setenv("WREN_POOL_DIR", _session_pool_dir())
    yield


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture (module- and session-scoped ones make executors too): this
    session's pool directory, and the shared pool server off unless asked for."""
    os.environ["WREN_POOL_DIR"] = _session_pool_dir()
    try:
        from wren_backend_local import compute
    except ImportError:  # an environment without the localhost adapter
        return
    if os.environ.get("WREN_TEST_POOL_SERVER"):  # every test through one pool server
        from wren.worker.pool import rendezvous

        rendezvous.server_name = lambda: "session"  # type: ignore[assignment]
    else:
        compute.SHARED_POOL = False


_POOL_DIR: list[str] = []


def _session_pool_dir() -> str:
    """A short private directory for this session's pool server sockets (a Unix socket's
    path must stay under ~100 bytes, which pytest's own temp paths may not)."""
    if not _POOL_DIR:
        _POOL_DIR.append(os.path.join(tempfile.mkdtemp(prefix="wren-test-"), "pool"))
    return _POOL_DIR[0]


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove this session's pool directory: a server whose socket is gone exits once idle."""
    import shutil

    for directory in _POOL_DIR:
        shutil.rmtree(os.path.dirname(directory), ignore_errors=True)

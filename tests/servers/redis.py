"""A private Redis server for the tests: Debian's `redis-server`, started for real.

`RedisServer` runs one server on 127.0.0.1 on a free port, with a password, no persistence
and its working directory under a temp dir, and stops it by PID. The `redis_server` fixture
starts one per test session and fails loudly if it cannot (install it with tests/bootstrap,
tests/bootstrap.d/45-redis.sh).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers._process import Daemon, wait_for
from tests.servers.ports import free_port

SERVER = "redis-server"
START_TIMEOUT = 30.0


class RedisServer:
    """One password-protected redis-server owned by this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self._daemon: Daemon | None = None

    @property
    def url(self) -> str:
        """The address without the password (what a config names next to `password`)."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def config(self) -> dict[str, object]:
        """The `multiprocessing:` section that reaches this server."""
        return {"url": self.url, "password": self.password}

    def _ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                                 socket_timeout=1)
            with client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        binary = shutil.which(SERVER)
        if binary is None:
            raise RuntimeError("redis-server is not installed; run tests/bootstrap "
                               "(tests/bootstrap.d/45-redis.sh)")
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port),
                "--requirepass", self.password, "--save", "", "--appendonly", "no",
                "--dir", str(self.root), "--daemonize", "no", "--protected-mode", "yes"]
        self._daemon = Daemon("redis-server", argv, self.root / "redis.log")
        wait_for(f"redis-server on 127.0.0.1:{self.port}", self._ping, START_TIMEOUT,
                 [self._daemon])

    def stop(self) -> None:
        daemon, self._daemon = self._daemon, None
        if daemon is not None:
            daemon.stop(5)

    @property
    def pid(self) -> int | None:
        return self._daemon.pid if self._daemon is not None else None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    root = Path(tempfile.mkdtemp(prefix="wren-redis-"))
    server = RedisServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

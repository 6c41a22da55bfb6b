"""A private RabbitMQ broker for the tests: Debian's `rabbitmq-server`, started for real.

`RabbitMQServer` runs one node on 127.0.0.1 with free ports of its own (AMQP, Erlang
distribution, and its own `epmd` so nothing is left behind on the shared default port), with
every directory (data, logs, cookie, config) under a temp dir, and stops both processes by
PID. The `rabbitmq_server` fixture starts one per test session and fails loudly if it cannot
(install it with tests/bootstrap). `restart()` stops and starts the node on the same port,
for tests of a broker that goes away.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.ports import free_port, stop_process

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
START_TIMEOUT = 90.0


class RabbitMQServer:
    """One broker node and its epmd, owned by this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.epmd_port, self.dist_port = free_port(), free_port(), free_port()
        self.node = f"wren-test-{self.port}@localhost"
        self.log_path = root / "server.log"
        self._server: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None
        for name in ("home", "mnesia", "log"):
            (root / name).mkdir(parents=True, exist_ok=True)
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "disk_free_limit.absolute = 1\n"  # the disk may be nearly full on CI machines
            "log.console = true\nlog.console.level = warning\nlog.file = false\n")

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        root = str(self.root)
        return dict(
            os.environ, HOME=f"{root}/home", ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1", RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port), RABBITMQ_MNESIA_BASE=f"{root}/mnesia",
            RABBITMQ_LOG_BASE=f"{root}/log", RABBITMQ_CONFIG_FILE=f"{root}/rabbitmq.conf",
            RABBITMQ_ENABLED_PLUGINS_FILE=f"{root}/enabled_plugins",
            RABBITMQ_CONF_ENV_FILE=f"{root}/no-env-file", RABBITMQ_PID_FILE=f"{root}/pid",
            # exec the Erlang VM directly, so the PID we hold is the broker's own
            RUNNING_UNDER_SYSTEMD="true",
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")

    def start(self) -> None:
        if not os.path.exists(SERVER) or shutil.which("epmd") is None:
            raise RuntimeError("rabbitmq-server is not installed; run tests/bootstrap "
                               "(tests/bootstrap.d/40-rabbitmq.sh)")
        if self._epmd is None or self._epmd.poll() is not None:
            self._epmd = subprocess.Popen(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        try:
            self._server = subprocess.Popen([SERVER], env=self._env(), cwd=self.root,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import pika

        deadline = time.monotonic() + START_TIMEOUT
        params = pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=2")
        assert self._server is not None
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                break
            try:
                pika.BlockingConnection(params).close()
                return
            except pika.exceptions.AMQPError:
                time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"RabbitMQ did not start on 127.0.0.1:{self.port} within "
                           f"{START_TIMEOUT:g} s; its log ends with:\n{tail}")

    def stop_broker(self, timeout: float = 30.0) -> None:
        """Stop the node (graceful on SIGTERM), keeping epmd for a restart."""
        server, self._server = self._server, None
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    def restart(self) -> None:
        self.stop_broker()
        self.start()

    def stop(self) -> None:
        self.stop_broker()
        epmd, self._epmd = self._epmd, None
        if epmd is not None:
            stop_process(epmd, 5)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._server, self._epmd) if p is not None]


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitMQServer]:
    root = Path(tempfile.mkdtemp(prefix="wren-rabbitmq-"))
    server = RabbitMQServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

"""The user's shared pool server: one server reused by successive client processes, exit
once idle, a killed server turning its calls into errors (never a hang), a private directory
(refused when it is someone else's or a link), and one server however many clients start it
at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wren
from wren.testing import functions as fn
from wren.worker.pool import client, link, rendezvous

_CLIENT = """
import json, os, sys
import wren
from wren.worker.pool.client import shared_pool
from wren.testing import functions as fn
with wren.FunctionExecutor(storage_dir=sys.argv[1], worker_processes=2,
                           pool_idle_timeout=float(sys.argv[2])) as fexec:
    pids = fexec.get_result(fexec.map(fn.worker_pid, range(8), chunksize=1))
print(json.dumps({"server": shared_pool(1.0).server_pid, "workers": sorted(set(pids))}))
"""

_START = """
import json, sys
from wren.worker.pool.rendezvous import open_link
link, pid = open_link(float(sys.argv[1]), 1)
print(pid)
"""


@pytest.fixture
def pool_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private pool directory of this test (short: socket paths are limited), the shared
    pool turned on for executors made here, and every server started here stopped after."""
    from wren_backend_local import compute

    base = Path(tempfile.mkdtemp(prefix="wren-t-"))
    directory = base / "pool"
    monkeypatch.setenv(rendezvous.POOL_DIR_ENV, str(directory))
    monkeypatch.setattr(compute, "SHARED_POOL", True)
    monkeypatch.setattr(client, "_shared", None)
    yield directory
    if client._shared is not None:
        client._shared.shutdown()
    for pid in _servers(directory):
        os.kill(pid, signal.SIGKILL)
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def _servers(directory: Path) -> list[int]:
    """Pids of the live pool servers whose socket is in `directory`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"wren.worker.pool.server" in b" ".join(cmdline) and any(
                arg.startswith(str(directory).encode()) for arg in cmdline):
            stat = (entry / "stat").read_text()
            if stat.split(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
    return found


def _run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_second_client_process_reuses_the_server_and_its_warm_workers(
        pool_dir: Path, tmp_path: Path) -> None:
    first = json.loads(_run(_CLIENT, str(tmp_path), "30"))
    second = json.loads(_run(_CLIENT, str(tmp_path), "30"))
    assert first["server"] == second["server"]
    assert _servers(pool_dir) == [first["server"]]
    assert set(first["workers"]) & set(second["workers"]), "no worker served both clients"
    for pid in second["workers"]:  # the workers are the server's children, not the client's
        stat = Path(f"/proc/{pid}/stat").read_text()
        assert int(stat.split(")", 1)[1].split()[1]) == first["server"]


def test_the_server_exits_once_idle(pool_dir: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the server's pool keeps its slots
    pool = client.RemotePool(idle_timeout=1.0)
    pool.ensure_size(1)
    assert pool.worker_pids()  # connects, starting the server
    server = pool.server_pid
    assert server in _servers(pool_dir)
    time.sleep(1.5)
    assert server in _servers(pool_dir), "the server left while a client was connected"
    pool.shutdown()
    deadline = time.monotonic() + 10
    while server in _servers(pool_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server not in _servers(pool_dir)
    assert not list(pool_dir.glob("*.sock"))
    assert not list(tmp_path.glob("wren-pool-*")), "the server left its pool directory"


def test_a_killed_server_fails_its_calls_and_the_next_job_starts_a_new_one(
        pool_dir: Path, tmp_path: Path) -> None:
    with wren.FunctionExecutor(storage_dir=str(tmp_path), worker_processes=1,
                               pool_idle_timeout=30) as fexec:
        future = fexec.call_async(fn.sleep_for, 60)
        pool = client._shared
        assert pool is not None
        deadline = time.monotonic() + 30
        while not future.running and time.monotonic() < deadline:
            time.sleep(0.02)
        killed = pool.server_pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(wren.WorkerLostError, match="pool server"):
            future.result(timeout=20)
        assert time.monotonic() - started < 10
        assert fexec.call_async(fn.double, 21).result(timeout=60) == 42
        assert pool.server_pid != killed


def test_a_pool_directory_of_another_user_or_a_link_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(foreign, 12345, 12345)
        monkeypatch.setenv(rendezvous.POOL_DIR_ENV, str(foreign))
        with pytest.raises(wren.StorageError, match="owned by uid 12345"):
            rendezvous.open_link(1.0, 1)
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(target)
    monkeypatch.setenv(rendezvous.POOL_DIR_ENV, str(tmp_path / "link"))
    with pytest.raises(wren.StorageError, match="symbolic link"):
        rendezvous.open_link(1.0, 1)
    assert not list(target.iterdir())


def test_a_peer_of_another_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        link.check_peer(left)  # this user: accepted
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
        with pytest.raises(PermissionError, match="not as you"):
            link.check_peer(left)


def test_clients_starting_at_once_end_with_one_server(pool_dir: Path) -> None:
    starters = [subprocess.Popen([sys.executable, "-c", _START, "30"], stdout=subprocess.PIPE,
                                 text=True) for _ in range(4)]
    pids = {int(p.communicate(timeout=120)[0]) for p in starters}
    assert len(pids) == 1
    assert _servers(pool_dir) == list(pids)


def test_the_server_supervises_calls_as_the_in_process_pool_does(
        pool_dir: Path, tmp_path: Path) -> None:
    with wren.FunctionExecutor(storage_dir=str(tmp_path), worker_processes=2,
                               pool_idle_timeout=30, execution_timeout=1) as fexec:
        overrun = fexec.call_async(fn.ignore_alarm_and_sleep, 30)
        killed = fexec.call_async(fn.kill_self, signal.SIGKILL)
        with pytest.raises(wren.WorkerLostError, match="SIGKILL"):
            killed.result(timeout=60)
        with pytest.raises(wren.FunctionTimeoutError):
            overrun.result(timeout=60)
        assert fexec.call_async(fn.double, 4).result(timeout=60) == 8


def test_cancel_reaches_the_server(pool_dir: Path, tmp_path: Path) -> None:
    with wren.FunctionExecutor(storage_dir=str(tmp_path), worker_processes=1,
                               pool_idle_timeout=30) as fexec:
        running = fexec.call_async(fn.sleep_for, 60)
        queued = fexec.call_async(fn.sleep_for, 60)
        pool = client._shared
        assert pool is not None
        deadline = time.monotonic() + 30
        while not running.running and time.monotonic() < deadline:
            time.sleep(0.02)
        pool.cancel(id(fexec.compute), "stopped by the test", "timeout")
        for future in (running, queued):
            with pytest.raises(wren.FunctionTimeoutError, match="stopped by the test"):
                future.result(timeout=20)


def test_a_client_of_another_version_gets_its_own_server(
        pool_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    own, pid = rendezvous.open_link(30.0, 1)
    own.close()
    path = next(pool_dir.glob("*.sock"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    other = link.Link(sock)
    other.send(("hello", rendezvous.PROTOCOL, "0.0.0-other", 30.0))
    assert other.receive(10)[0] == "refused"  # the server never serves another version
    other.close()
    name = rendezvous.server_name()
    monkeypatch.setattr(rendezvous, "__version__", "0.0.0-other")
    assert rendezvous.server_name() != name  # ... whose clients look for their own server
    assert _servers(pool_dir) == [pid]


def test_a_running_server_is_joined_before_connect_soon_returns(pool_dir: Path) -> None:
    first = client.RemotePool(idle_timeout=5.0)
    assert first.worker_pids()  # starts the server
    second = client.RemotePool(idle_timeout=5.0)
    try:
        second.connect_soon()
        assert second._link is not None and second.server_pid == first.server_pid
    finally:
        second.shutdown()
        first.shutdown()


def test_an_executor_created_with_a_running_server_sends_its_storage_profile_then(
        pool_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    starter = client.RemotePool(idle_timeout=5.0)
    assert starter.worker_pids()  # a running server
    sent: list[str] = []
    original = link.Link.send

    def record(self: link.Link, message: tuple) -> None:
        sent.append(message[0])
        original(self, message)

    monkeypatch.setattr(link.Link, "send", record)
    try:
        with wren.FunctionExecutor(storage_dir=str(tmp_path), worker_processes=1,
                                   pool_idle_timeout=5.0) as fexec:
            assert "profile" in sent  # at creation: the first job carries its tasks only
            before = len(sent)
            assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]
            assert "tasks" in sent[before:] and "profile" not in sent[before:]
    finally:
        starter.shutdown()


def test_connect_soon_starts_a_missing_server_in_the_background(pool_dir: Path) -> None:
    pool = client.RemotePool(idle_timeout=5.0)
    try:
        pool.connect_soon()  # returns at once; the server starts meanwhile
        deadline = time.monotonic() + 30
        while pool.server_pid is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.server_pid in _servers(pool_dir)
    finally:
        pool.shutdown()


def test_the_client_counts_unheard_calls_and_names_them_only_when_the_server_is_lost() -> None:
    books = client._Unheard()
    books.sent(range(0, 5000))
    books.sent([5000, 5002, 5001])
    assert not books.heard(range(0, 2500))
    assert not books.heard([5002])
    assert books.unheard() == [*range(2500, 5000), 5000, 5001]
    assert not books.heard(range(2500, 5000))
    assert books.heard([5000, 5001])  # every call sent is heard of now
    assert books.unheard() == []


def test_call_indices_cross_the_link_as_ranges_when_they_are_ranges() -> None:
    from wren.worker.pool import server

    class Outbox:
        def __init__(self) -> None:
            self.messages: list[tuple[object, ...]] = []

        def put(self, message: tuple[object, ...]) -> None:
            self.messages.append(message)

    outbox = Outbox()
    relay = server._Relay(outbox, 3)  # type: ignore[arg-type]
    relay.status_pushed_covering(b"doc", "e/M000", range(10, 5010))
    relay.status_pushed_covering(b"doc", "e/M000", (4, 2))
    relay.calls_lost("e/M000", range(7, 9), "killed")
    sent = [message[3] for message in outbox.messages]
    assert sent == [range(10, 5010), [4, 2], range(7, 9)]
    assert type(sent[0]) is range and type(sent[1]) is list
    assert len(link.Link.frame(outbox.messages[0])) < 200  # not 5,000 pickled numbers

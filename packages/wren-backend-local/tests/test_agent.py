"""The runtime-container agent outside any container: its authenticated channel, its hello,
`--info`, and that it ends when its client goes away (no orphan workers)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
from multiprocessing import AuthenticationError

import pytest
import wren
from wren_backend_local.agent_channel import ADDRESS_ENV, KEY_ENV, AgentListener, connect
from wren_backend_local.docker_engine import describe_container_exit


def _agent(address: str, key: bytes) -> subprocess.Popen[str]:
    env = {**os.environ, ADDRESS_ENV: address, KEY_ENV: key.hex()}
    return subprocess.Popen([sys.executable, "-m", "wren_backend_local.agent"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_peer_without_the_key_is_refused() -> None:
    listener = AgentListener()
    errors: list[BaseException] = []

    def intruder() -> None:
        try:
            connect(listener.address, b"not the key")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=intruder)
    thread.start()
    assert listener.accept(10) is None
    thread.join(10)
    assert errors and isinstance(errors[0], AuthenticationError)
    listener.close()


def test_agent_says_hello_and_ends_with_its_client() -> None:
    listener = AgentListener()
    agent = _agent(listener.address, listener.key)
    try:
        channel = None
        for _ in range(80):
            channel = listener.accept(0.25)
            if channel is not None or agent.poll() is not None:
                break
        assert channel is not None, agent.communicate(timeout=5)
        kind, facts = channel.receive(timeout=30)
        assert kind == "hello"
        assert facts["python_version"] == ".".join(platform.python_version_tuple()[:2])
        assert facts["wren_version"] == wren.__version__
        assert "wren" in facts["preinstalled_modules"]
        channel.send(("size", 1))
        channel.close()
        assert agent.wait(timeout=20) == 0
    finally:
        listener.close()
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def test_agent_with_a_wrong_key_exits_with_an_error() -> None:
    listener = AgentListener()
    agent = _agent(listener.address, os.urandom(32))
    try:
        assert listener.accept(20) is None
        _, stderr = agent.communicate(timeout=20)
        assert agent.returncode != 0 and "AuthenticationError" in stderr
    finally:
        listener.close()


def test_agent_info_prints_the_runtime_facts() -> None:
    output = subprocess.run([sys.executable, "-m", "wren_backend_local.agent", "--info"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    facts = json.loads(output)
    assert facts["python"] == platform.python_version()
    assert facts["executable"] == sys.executable


def test_agent_refuses_to_run_without_its_client() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (ADDRESS_ENV, KEY_ENV)}
    result = subprocess.run([sys.executable, "-m", "wren_backend_local.agent"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "started by wren's localhost backend" in result.stderr


@pytest.mark.parametrize(("code", "oom", "said"), [
    (0, False, "exited with code 0"), (1, False, "exited with code 1"),
    (137, False, "was killed by signal SIGKILL"), (139, False, "SIGSEGV (segmentation fault)"),
    (137, True, "was killed because it ran out of memory"),
])
def test_container_exits_in_words(code: int, oom: bool, said: str) -> None:
    assert said in describe_container_exit(code, oom)


def test_the_listener_waits_on_descriptors_past_1024() -> None:
    """A long-lived client (a notebook, a test session) can hold more than FD_SETSIZE
    descriptors; select() refuses those, so a container runtime could no longer start."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("the hard limit on open files is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    fillers = []
    try:
        while not fillers or fillers[-1] < 1030:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        listener = AgentListener()
        try:
            assert listener._sock.fileno() > 1024
            assert listener.accept(0.05) is None  # no agent: a timeout, not a ValueError
        finally:
            listener.close()
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

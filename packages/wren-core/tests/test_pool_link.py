"""`Link`: the framed, pickled messages between a client and the user's pool server."""

from __future__ import annotations

import os
import resource
import socket
import time

import pytest
from wren.worker.pool.link import Link


def test_messages_of_every_size_arrive_whole_and_in_order() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    sender, receiver = Link(left), Link(right)
    try:
        messages = [("small", 1), ("big", b"x" * 100_000)]
        for message in messages:
            sender.send(message)
        assert [receiver.receive(5), receiver.receive(5)] == messages
        with pytest.raises(TimeoutError, match="within 0.05 s"):
            receiver.receive(0.05)
        sender.close()
        with pytest.raises((EOFError, OSError)):
            receiver.receive(5)
    finally:
        sender.close()
        receiver.close()


def test_waiting_works_on_descriptors_past_1024() -> None:
    """A long-lived client (a notebook, a test session) can hold more than FD_SETSIZE
    descriptors; `select()` refuses those, so a timed wait on the pool server would raise
    ValueError instead of waiting."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("the hard limit on open files is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    fillers: list[int] = []
    try:
        while not fillers or fillers[-1] < 1030:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        left, right = socket.socketpair(socket.AF_UNIX)
        sender, receiver = Link(left), Link(right)
        try:
            assert receiver.fileno() > 1024
            with pytest.raises(TimeoutError):
                receiver.receive(0.05)
            sender.send(("hello",))
            assert receiver.receive(5) == ("hello",)
        finally:
            sender.close()
            receiver.close()
    finally:
        for fd in fillers:
            os.close(fd)


def test_an_outbox_sends_at_once_and_queues_behind_a_client_that_stops_reading() -> None:
    from wren.worker.pool.server import _Outbox

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    outbox, reader = _Outbox(Link(ours)), Link(theirs)
    outbox.put(("status", 0))
    assert outbox._backlog == 0 and reader.receive(5.0) == ("status", 0)  # no queue: sent
    started = time.monotonic()
    big = b"x" * 300_000  # the socket's buffer fills within a few of these
    for number in range(1, 40):
        outbox.put(("status", number, big))
    assert time.monotonic() - started < 2.0, "put() waited for a client that does not read"
    assert outbox._backlog > 0
    received = [reader.receive(10.0) for _ in range(39)]
    assert [message[1] for message in received] == list(range(1, 40))
    assert all(message[2] == big for message in received)
    outbox.close()
    with pytest.raises(EOFError):
        reader.receive(5.0)

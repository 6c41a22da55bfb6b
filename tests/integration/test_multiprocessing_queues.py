"""`Queue`, `SimpleQueue`, `JoinableQueue` and `Pipe` of wren.multiprocessing over the
session's real Redis, used from the client and from localhost workers (CPython's
`_TestQueue`/`_TestConnection` expectations, written again for wren)."""

from __future__ import annotations

import queue
import time

import pytest
import wren.multiprocessing as mp
from wren import ConfigError
from wren.multiprocessing import context

from tests.servers.redis import RedisServer


def produce(q: mp.Queue, n: int) -> None:
    for i in range(n):
        q.put(("item", i))


def consume_and_answer(conn: mp.Connection) -> None:
    while True:
        try:
            value = conn.recv()
        except EOFError:
            break
        conn.send(value * 2)
    conn.close()


def test_queue_is_fifo_and_shares_items_with_workers(mp_redis: RedisServer) -> None:
    q = mp.Queue()
    assert q.empty() and q.qsize() == 0
    p = mp.Process(target=produce, args=(q, 5))
    p.start()
    assert [q.get(timeout=30) for _ in range(5)] == [("item", i) for i in range(5)]
    p.join()
    assert p.exitcode == 0
    q.put({"a": [1, 2]})
    q.put_nowait(None)
    assert q.qsize() == 2 and not q.empty()
    assert q.get() == {"a": [1, 2]}
    assert q.get_nowait() is None


def test_queue_get_timeouts(mp_redis: RedisServer) -> None:
    q = mp.Queue()
    with pytest.raises(queue.Empty):
        q.get(False)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    started = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(True, 0.2)
    assert 0.15 <= time.monotonic() - started < 2
    with pytest.raises(ValueError):
        q.get(True, -1)


def test_queue_maxsize(mp_redis: RedisServer) -> None:
    q = mp.Queue(maxsize=2)
    q.put(1)
    q.put(2)
    assert q.full()
    with pytest.raises(queue.Full):
        q.put(3, False)
    with pytest.raises(queue.Full):
        q.put(3, True, 0.1)
    assert q.get() == 1
    q.put(3)
    assert [q.get(), q.get()] == [2, 3]


def test_queue_close(mp_redis: RedisServer) -> None:
    q = mp.Queue()
    q.close()
    q.join_thread()
    with pytest.raises(ValueError):
        q.put(1)


def test_simple_queue(mp_redis: RedisServer) -> None:
    q = mp.SimpleQueue()
    assert q.empty()
    q.put("x")
    assert not q.empty()
    assert q.get() == "x"


def test_joinable_queue(mp_redis: RedisServer) -> None:
    q = mp.JoinableQueue()
    for i in range(3):
        q.put(i)
    for _ in range(3):
        q.get()
        q.task_done()
    q.join()  # returns at once: every item was done
    with pytest.raises(ValueError):
        q.task_done()


def test_pool_workers_fill_a_queue(mp_redis: RedisServer) -> None:
    q = mp.Queue()
    with mp.Pool(2) as pool:
        pool.starmap(produce, [(q, 3), (q, 3)], chunksize=1)
    assert sorted(q.get(timeout=5) for _ in range(6)) == sorted([("item", i)
                                                                  for i in range(3)] * 2)


def test_pipe_both_ways(mp_redis: RedisServer) -> None:
    a, b = mp.Pipe()
    a.send([1, "two"])
    assert b.poll(5) and b.recv() == [1, "two"]
    b.send_bytes(b"0123456789", 2, 5)
    assert a.recv_bytes() == b"23456"
    assert not a.poll()
    with pytest.raises(ValueError):
        b.send_bytes(b"abc", 4)
    a.send_bytes(b"long")
    with pytest.raises(OSError):
        b.recv_bytes(maxlength=1)


def test_pipe_with_a_process_and_end_of_stream(mp_redis: RedisServer) -> None:
    here, there = mp.Pipe()
    p = mp.Process(target=consume_and_answer, args=(there,))
    p.start()
    for i in range(3):
        here.send(i)
    assert [here.recv() for _ in range(3)] == [0, 2, 4]
    here.close()
    p.join(60)
    assert p.exitcode == 0
    with pytest.raises(OSError):
        here.send(1)


def test_pipe_eof_after_everything_sent(mp_redis: RedisServer) -> None:
    a, b = mp.Pipe()
    a.send("last")
    a.close()
    assert b.recv() == "last"
    with pytest.raises(EOFError):
        b.recv()
    assert b.poll()  # recv would not block: it raises EOFError again
    with pytest.raises(EOFError):
        b.recv()


def test_one_way_pipe(mp_redis: RedisServer) -> None:
    reader, writer = mp.Pipe(duplex=False)
    assert reader.readable and not reader.writable
    assert writer.writable and not writer.readable
    writer.send(5)
    assert reader.recv() == 5
    with pytest.raises(OSError):
        reader.send(1)
    with pytest.raises(OSError):
        writer.recv()


def test_shared_state_without_redis_names_the_config_section() -> None:
    context.configure()
    try:
        with pytest.raises(ConfigError, match="multiprocessing:"):
            mp.Queue()
        with pytest.raises(ConfigError, match="multiprocessing:"):
            mp.Manager()
        with mp.Pool(1) as pool:  # a pool needs no Redis
            assert pool.map(abs, [-1]) == [1]
    finally:
        context.shutdown()

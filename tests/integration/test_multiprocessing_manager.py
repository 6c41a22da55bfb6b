"""`Manager()` objects (dict, list, Value, Lock, RLock, Event, Namespace) and the top-level
`Value`/`Lock` of wren.multiprocessing over the session's real Redis, shared with localhost
workers (CPython's `_TestContainers`, `_TestValue` and `_TestLock` expectations, written
again for wren)."""

from __future__ import annotations

import threading
import time

import pytest
import redis
import wren.multiprocessing as mp

from tests.servers.redis import RedisServer


def add_one(counter: mp.Value, times: int) -> None:
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def fill(d: mp.DictProxy, items: mp.ListProxy, i: int) -> None:
    d[i] = i * i
    items.append(i)


def test_dict(mp_redis: RedisServer) -> None:
    with mp.Manager() as manager:
        d = manager.dict()
        indices = range(65, 70)
        for i in indices:
            d[i] = chr(i)
        assert d.copy() == {i: chr(i) for i in indices}
        assert sorted(d.keys()) == list(indices)
        assert sorted(d.values()) == [chr(i) for i in indices]
        assert sorted(d.items()) == [(i, chr(i)) for i in indices]
        assert len(d) == 5 and 65 in d and 70 not in d
        assert d.get(70, "no") == "no" and d[66] == "B"
        del d[65]
        with pytest.raises(KeyError):
            d[65]
        with pytest.raises(KeyError):
            del d[65]
        assert d.pop(66) == "B" and d.pop(66, None) is None
        assert d.setdefault("k", [1]) == [1] and d.setdefault("k", [2]) == [1]
        d.update({"a": 1}, b=2)
        assert d["a"] == 1 and d["b"] == 2
        assert manager.dict({"x": 1}, y=2).copy() == {"x": 1, "y": 2}
        d.clear()
        assert len(d) == 0 and d == {}


def test_list(mp_redis: RedisServer) -> None:
    with mp.Manager() as manager:
        a = manager.list(range(10))
        assert a[:] == list(range(10)) and a[2:5] == [2, 3, 4] and a[-1] == 9
        b = manager.list()
        assert b[:] == [] and len(b) == 0
        b.extend(range(5))
        b += [5]
        b.append(6)
        assert b[:] == list(range(7))
        b.insert(0, -1)
        b[1] = "zero"
        del b[2]
        assert b[:] == [-1, "zero", 2, 3, 4, 5, 6]
        assert b.pop() == 6 and b.pop(0) == -1
        b.remove("zero")
        assert b.index(3) == 1 and b.count(2) == 1 and 4 in b
        b.reverse()
        assert b[:] == [5, 4, 3, 2]
        b.sort()
        assert list(b) == [2, 3, 4, 5]
        with pytest.raises(IndexError):
            b[10]


def test_workers_share_dict_and_list(mp_redis: RedisServer) -> None:
    with mp.Manager() as manager:
        d, items = manager.dict(), manager.list()
        with mp.Pool(2) as pool:
            pool.starmap(fill, [(d, items, i) for i in range(6)], chunksize=1)
        assert d.copy() == {i: i * i for i in range(6)}
        assert sorted(items) == list(range(6))


def test_value_and_its_lock_count_exactly(mp_redis: RedisServer) -> None:
    counter = mp.Value("i", 0)
    assert counter.value == 0
    counter.value = 5
    assert counter.value == 5 and counter.get() == 5
    counter.value = 0
    with mp.Pool(4) as pool:
        pool.starmap(add_one, [(counter, 10)] * 4, chunksize=1)
    assert counter.value == 40
    with pytest.raises(AttributeError):
        mp.Value("i", 1, lock=False).get_lock()
    with mp.Manager() as manager:
        v = manager.Value("d", 1.5)
        assert v.value == 1.5


def test_lock(mp_redis: RedisServer) -> None:
    lock = mp.Lock()
    assert lock.acquire()
    assert not lock.acquire(False)
    started = time.monotonic()
    assert not lock.acquire(timeout=0.2)
    assert time.monotonic() - started >= 0.15
    lock.release()
    with pytest.raises(ValueError):
        lock.release()
    with lock:
        assert not lock.acquire(block=False)
    assert lock.acquire(False)
    threading.Timer(0.2, lock.release).start()
    assert lock.acquire(timeout=10)  # woken by the release
    lock.release()


def test_rlock(mp_redis: RedisServer) -> None:
    lock = mp.RLock()
    assert lock.acquire() and lock.acquire()
    other: list[bool] = []
    thread = threading.Thread(target=lambda: other.append(lock.acquire(False)))
    thread.start()
    thread.join()
    assert other == [False]
    lock.release()
    lock.release()
    with pytest.raises(AssertionError):
        lock.release()


def test_event(mp_redis: RedisServer) -> None:
    event = mp.Event()
    assert not event.is_set()
    assert not event.wait(0.1)
    threading.Timer(0.2, event.set).start()
    assert event.wait(10)
    assert event.is_set() and event.wait()
    event.clear()
    assert not event.is_set()


def test_namespace(mp_redis: RedisServer) -> None:
    with mp.Manager() as manager:
        ns = manager.Namespace(x=1)
        ns.y = [2]
        assert (ns.x, ns.y) == (1, [2])
        del ns.x
        with pytest.raises(AttributeError):
            _ = ns.x


def test_shutdown_deletes_what_the_manager_made(mp_redis: RedisServer) -> None:
    manager = mp.Manager()
    d = manager.dict(a=1)
    items = manager.list([1])
    client = redis.Redis(port=mp_redis.port, password=mp_redis.password)
    assert client.exists(d._name, items._name) == 2
    manager.shutdown()
    assert client.exists(d._name, items._name) == 0
    with pytest.raises(RuntimeError):
        manager.dict()


def test_semaphores(mp_redis: RedisServer) -> None:
    sem = mp.Semaphore(2)
    assert sem.get_value() == 2
    assert sem.acquire() and sem.acquire()
    assert not sem.acquire(False)
    assert not sem.acquire(timeout=0.1)
    sem.release()
    assert sem.get_value() == 1
    sem.release()
    sem.release()  # an unbounded semaphore may go above its initial value
    assert sem.get_value() == 3
    bounded = mp.BoundedSemaphore(1)
    with bounded:
        assert bounded.get_value() == 0
    with pytest.raises(ValueError):
        bounded.release()
    with pytest.raises(ValueError):
        mp.Semaphore(-1)
    with mp.Manager() as manager:
        assert manager.Semaphore(3).get_value() == 3


def double_all(arr: mp.Array) -> None:
    with arr.get_lock():
        arr[:] = [x * 2 for x in arr]


def test_array(mp_redis: RedisServer) -> None:
    arr = mp.Array("i", range(5))
    assert len(arr) == 5 and list(arr) == [0, 1, 2, 3, 4] and arr[1:3] == [1, 2]
    arr[0] = 10
    assert arr[0] == 10 and arr[-1] == 4
    with pytest.raises(IndexError):
        arr[5] = 1
    with pytest.raises(ValueError):
        arr[0:2] = [1]
    p = mp.Process(target=double_all, args=(arr,))
    p.start()
    p.join()
    assert p.exitcode == 0 and list(arr) == [20, 2, 4, 6, 8]
    assert list(mp.Array("d", 3)) == [0.0, 0.0, 0.0]
    with pytest.raises(AttributeError):
        mp.RawArray("i", 2).get_lock()
    with pytest.raises(AttributeError):
        mp.RawValue("i", 2).get_lock()
    assert mp.RawValue("i", 2).value == 2
    with mp.Manager() as manager:
        assert manager.Array("i", [1, 2]).get_obj() == [1, 2]

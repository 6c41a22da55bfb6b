"""`wren.multiprocessing.Pool` keeps the standard library's promises, on localhost.

The expectations are those of CPython's own pool tests (Lib/test/_test_multiprocessing.py,
`_TestPool`), written again for wren: results in order, exceptions re-raised with their
type, callbacks, timeouts, the pool's life cycle, and argument checks. Pool needs no Redis.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator

import pytest
import wren.multiprocessing as mp
from wren.multiprocessing import context


def sqr(x: int, wait: float = 0.0) -> int:
    time.sleep(wait)
    return x * x


def slow_sqr(x: int) -> int:
    return sqr(x, 1.5)


def mul(x: int, y: int) -> int:
    return x * y


def raising() -> None:
    raise KeyError("key")


def fails_at_five(x: int) -> int:
    if x == 5:
        raise ZeroDivisionError(f"bad item {x}")
    return x


_INIT_VALUE: list[int] = []


def initializer(value: int) -> None:
    _INIT_VALUE[:] = [value]


def initialized(_: object) -> list[int]:
    return list(_INIT_VALUE)


@pytest.fixture
def pool() -> Iterator[mp.Pool]:
    context.configure()
    with mp.Pool(4) as pool:
        yield pool
    context.shutdown()


def test_apply(pool: mp.Pool) -> None:
    assert pool.apply(sqr, (5,)) == 25
    assert pool.apply(sqr, (), {"x": 3}) == 9


def test_map_gives_results_in_order(pool: mp.Pool) -> None:
    assert pool.map(sqr, list(range(10))) == [x * x for x in range(10)]
    assert pool.map(sqr, list(range(100)), chunksize=20) == [x * x for x in range(100)]
    assert pool.map(sqr, []) == []


def test_map_is_one_wren_job_of_chunks(pool: mp.Pool) -> None:
    fexec = context.executor()
    before = len(fexec.futures)
    assert pool.map(sqr, range(1000)) == [x * x for x in range(1000)]
    new = fexec.futures[before:]
    assert len({f.job_key for f in new}) == 1
    assert len(new) == 4 * 4  # four chunks per process, like the standard library


def test_the_chunks_of_a_range_are_ranges(pool: mp.Pool) -> None:
    # they travel as three numbers each, not as every item
    chunks = pool._chunks(range(3, 1003), None)
    assert all(isinstance(chunk, range) for chunk in chunks)
    assert [x for chunk in chunks for x in chunk] == list(range(3, 1003))
    assert pool.map(sqr, range(3, 1003, 7), chunksize=9) == [x * x for x in range(3, 1003, 7)]
    items = list(range(50))
    assert pool._chunks(items, 20) == [items[:20], items[20:40], items[40:]]


def test_starmap(pool: mp.Pool) -> None:
    pairs = list(zip(range(10), range(9, -1, -1)))
    assert pool.starmap(mul, pairs) == [x * y for x, y in pairs]
    assert pool.starmap_async(mul, pairs, chunksize=3).get() == [x * y for x, y in pairs]


def test_map_async_and_callbacks(pool: mp.Pool) -> None:
    assert pool.map_async(sqr, list(range(10))).get() == [x * x for x in range(10)]
    got: list[object] = []
    result = pool.map_async(sqr, [1, 2, 3], callback=got.append)
    result.wait()
    assert result.ready() and result.successful()
    pool.close()
    pool.join()
    assert got == [[1, 4, 9]]


def test_error_callback(pool: mp.Pool) -> None:
    errors: list[BaseException] = []
    result = pool.map_async(fails_at_five, range(8), chunksize=1,
                            error_callback=errors.append)
    with pytest.raises(ZeroDivisionError, match="bad item 5"):
        result.get(60)
    assert not result.successful()
    pool.close()
    pool.join()
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


def test_async_result_timeout(pool: mp.Pool) -> None:
    result = pool.apply_async(sqr, (6, 2.0))
    started = time.monotonic()
    with pytest.raises(mp.TimeoutError):
        result.get(timeout=0.2)
    assert time.monotonic() - started < 1.5
    assert not result.ready()
    with pytest.raises(ValueError):
        result.successful()
    assert result.get(timeout=30) == 36
    assert result.successful()


def test_exceptions_keep_their_type(pool: mp.Pool) -> None:
    with pytest.raises(KeyError):
        pool.apply(raising)
    with pytest.raises(ZeroDivisionError):
        pool.map(fails_at_five, range(10))
    result = pool.apply_async(raising)
    with pytest.raises(KeyError):
        result.get(30)
    assert result.ready() and not result.successful()


def test_imap(pool: mp.Pool) -> None:
    assert list(pool.imap(sqr, list(range(10)))) == [x * x for x in range(10)]
    it = pool.imap(sqr, list(range(10)))
    assert [it.next(30) for _ in range(10)] == [x * x for x in range(10)]
    with pytest.raises(StopIteration):
        it.next()
    assert list(pool.imap(sqr, list(range(100)), chunksize=7)) == [x * x for x in range(100)]


def test_imap_raises_at_the_failed_item(pool: mp.Pool) -> None:
    it = pool.imap(fails_at_five, range(8))
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        next(it)
    assert list(it) == [6, 7]


def test_imap_unordered(pool: mp.Pool) -> None:
    assert sorted(pool.imap_unordered(sqr, list(range(10)))) == [x * x for x in range(10)]
    assert sorted(pool.imap_unordered(sqr, list(range(50)), chunksize=6)) == \
        [x * x for x in range(50)]


def test_imap_next_timeout(pool: mp.Pool) -> None:
    for it in (pool.imap(slow_sqr, [3, 4]), pool.imap_unordered(slow_sqr, [3])):
        with pytest.raises(mp.TimeoutError):
            it.next(timeout=0.2)
        assert it.next(timeout=30) == 9


def test_initializer_runs_before_calls() -> None:
    context.configure()
    try:
        with mp.Pool(2, initializer=initializer, initargs=(42,)) as pool:
            assert pool.map(initialized, range(4)) == [[42]] * 4
    finally:
        context.shutdown()


def test_argument_checks() -> None:
    with pytest.raises(ValueError):
        mp.Pool(-1)
    with pytest.raises(ValueError):
        mp.Pool(0)
    with pytest.raises(TypeError):
        mp.Pool(1, initializer=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        mp.Pool(1, maxtasksperchild=0)
    assert mp.Pool(1, maxtasksperchild=3) is not None


def test_life_cycle(pool: mp.Pool) -> None:
    with pytest.raises(ValueError):
        pool.join()  # still running
    pool.close()
    with pytest.raises(ValueError):
        pool.map(sqr, [1])
    with pytest.raises(ValueError):
        pool.apply_async(sqr, (1,))
    pool.join()


def test_context_manager_terminates() -> None:
    context.configure()
    try:
        with mp.Pool(2) as pool:
            assert pool.map(sqr, [1, 2]) == [1, 4]
        with pytest.raises(ValueError):
            pool.map(sqr, [1])
        with pytest.raises(ValueError), pool:
            pass
    finally:
        context.shutdown()


def test_terminate_stops_waiting(pool: mp.Pool) -> None:
    started = time.monotonic()
    pool.map_async(sqr, [(1)] * 4, callback=lambda _: None)
    pool.terminate()
    pool.join()
    assert time.monotonic() - started < 5


def test_pool_cannot_be_pickled(pool: mp.Pool) -> None:
    with pytest.raises(NotImplementedError):
        pickle.dumps(pool)


def test_cpu_count_and_contexts() -> None:
    context.configure()
    try:
        assert mp.cpu_count() >= 1
        assert mp.get_context("spawn").Pool is mp.Pool
        mp.set_start_method("spawn", force=True)
        with pytest.raises(ValueError):
            mp.get_context("nope")
    finally:
        context.shutdown()

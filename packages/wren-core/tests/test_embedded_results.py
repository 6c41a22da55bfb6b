"""Small results travel inside their status object (one write and one read per flushed
part); big ones keep their own object; every seal still holds on the combined object."""

from __future__ import annotations

import collections
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from test_runner import build, outcomes
from wren import MalformedDocumentError, TamperedDataError
from wren.protocol import keys
from wren.protocol.results import load_document_values, result_object
from wren.protocol.signing import new_key, seal
from wren.protocol.status import INLINE_RESULT_BYTES, StatusDocument
from wren.serialize import CloudpickleSerializer
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn
from wren.testing.contract.hostile import with_embedded
from wren.worker import run_task, runner

from conftest import SharedMemoryStorage, ThreadCompute

UNPICKLED: list[str] = []


class Trap:
    def __reduce__(self) -> Any:
        return (UNPICKLED.append, ("unpickled",))


@pytest.fixture(autouse=True)
def fresh_watchdog() -> Iterator[None]:
    """A watchdog made by a main-thread run_task here must not serve later worker threads."""
    yield
    runner._watchdog = None


@pytest.fixture
def storage() -> MemoryStorage:
    memory = MemoryStorage()
    memory.create_bucket("b")
    return memory


def job_objects(storage: MemoryStorage, job_key: str) -> list[str]:
    return sorted(storage.list_keys("b", keys.job_prefix(job_key)))


def test_a_small_result_is_one_object_with_its_status(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.double, list(range(10)))
    run_task(task, storage, key=TEST_KEY)
    assert job_objects(storage, task.job_key) == [keys.status_key(task.job_key, "t00000", 0)]
    [(document, values)] = outcomes(storage, task)
    assert document.result_inline and values == [2 * i for i in range(10)]


def test_a_big_result_keeps_its_own_object(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.make_bytes, [INLINE_RESULT_BYTES])
    run_task(task, storage, key=TEST_KEY)
    assert job_objects(storage, task.job_key) == [
        keys.result_key(task.job_key, "t00000", 0), keys.status_key(task.job_key, "t00000", 0)]
    [(document, values)] = outcomes(storage, task)
    assert not document.result_inline and document.inline_result is None
    assert values == [b"x" * INLINE_RESULT_BYTES]


def _document(n: int = 2) -> StatusDocument:
    document = StatusDocument("e/M000", "t00001", 0, keys.result_key("e/M000", "t00001", 0),
                              {"host": "h"}, range(n), [0.0] * n, [1.0] * n)
    blob = CloudpickleSerializer().dumps(list(range(n)))
    assert document.embed_result(seal(TEST_KEY, str(document.result_key), blob))
    return document


def test_the_embedded_result_survives_open_and_peek() -> None:
    raw = _document().seal(TEST_KEY)
    for found in (StatusDocument.open(raw, TEST_KEY, keys.status_key("e/M000", "t00001", 0)),
                  StatusDocument.open(memoryview(raw), TEST_KEY), StatusDocument.peek(raw)):
        assert found.result_inline and found.inline_result is not None
        assert load_document_values(found, result_object(found, MemoryStorage(), "b"),
                                    CloudpickleSerializer(), TEST_KEY) == [0, 1]
    found.release_result()
    with pytest.raises(wren.WrenError, match="released"):
        result_object(found, MemoryStorage(), "b")


def test_a_status_object_moved_to_another_part_is_refused() -> None:
    raw = _document().seal(TEST_KEY)
    with pytest.raises(TamperedDataError, match="belongs elsewhere"):
        StatusDocument.open(raw, TEST_KEY, keys.status_key("e/M000", "t00002", 0))


def test_a_status_object_whose_parts_disagree_is_malformed() -> None:
    document = _document()
    raw = document.seal(TEST_KEY)
    head = raw[:raw.index(b"\x00", 36)]
    with pytest.raises(MalformedDocumentError, match="embedded result"):
        StatusDocument.open(head, TEST_KEY)  # says a result is inside, none is
    plain = StatusDocument("e/M000", "t00001", 0, None, {}, range(1), [0.0], [0.0])
    with pytest.raises(MalformedDocumentError, match="embedded result"):
        StatusDocument.open(plain.seal(TEST_KEY) + b"\x00" + pickle.dumps(Trap()), TEST_KEY)
    assert UNPICKLED == []


@pytest.mark.parametrize("attack", ["bare pickle", "another key", "another part"])
def test_a_replaced_embedded_result_is_never_unpickled(attack: str) -> None:
    raw = _document().seal(TEST_KEY)
    evil = pickle.dumps([Trap(), Trap()])
    other = keys.result_key("e/M000", "t00002", 0)
    result = {"bare pickle": evil, "another key": seal(new_key(), other, evil),
              "another part": seal(TEST_KEY, other, evil)}[attack]
    found = StatusDocument.open(with_embedded(raw, result), TEST_KEY)
    values = load_document_values(found, result_object(found, MemoryStorage(), "b"),
                                  CloudpickleSerializer(), TEST_KEY)
    assert all(isinstance(v, TamperedDataError) for v in values) and len(values) == 2
    assert UNPICKLED == []


@pytest.fixture
def counted(thread_backends: type[ThreadCompute], monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[collections.Counter[str]]:
    """Storage requests of the client and its workers, by operation."""
    runner._watchdog = None  # one made for a main-thread run_task cannot serve threads
    counts: collections.Counter[str] = collections.Counter()
    for name in ("put_object", "get_object", "head_object", "list_objects", "delete_objects"):
        real = getattr(SharedMemoryStorage, name)

        def count(self: Any, *args: Any, _real: Any = real, _name: str = name,
                  **kwargs: Any) -> Any:
            counts[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(SharedMemoryStorage, name, count)
    yield counts


def test_a_map_costs_one_write_and_one_read_per_task(counted: collections.Counter[str]
                                                      ) -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        fexec.get_result(fexec.map(fn.double, range(4)))  # the function is uploaded once
        counted.clear()
        futures = fexec.map(fn.double, range(40), chunksize=4)  # 10 tasks
        assert fexec.get_result(futures) == [2 * i for i in range(40)]
        tasks = 10
        assert counted["put_object"] == tasks, counted  # each worker: its status object
        assert counted["get_object"] == tasks, counted  # the client: each status object
        # besides the listings: at most the previous job's cleaning
        assert counted["head_object"] == 0 and counted["delete_objects"] <= 1, counted

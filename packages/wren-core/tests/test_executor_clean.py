"""`FunctionExecutor.clean(fs, cs, clean_cloudobjects, force)` on the thread-backed test
backend: what is kept until it is read, what `force` does to a running job, and that cloud
objects of other storage backends or other executors are left alone."""

from __future__ import annotations

import logging
import time

import pytest
import wren
from wren.client import cleaner as cleaner_module
from wren.client.cleaner import Cleaner
from wren.protocol import keys
from wren.testing import MemoryStorage
from wren.testing import functions as fn

pytestmark = [pytest.mark.usefixtures("thread_backends"), pytest.mark.timeout(60)]


def executor(**overrides: object) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="threads", storage="shared_memory", **overrides)


def _keys(fexec: wren.FunctionExecutor, prefix: str) -> list[str]:
    return fexec.storage.list_keys(fexec.bucket, prefix)


def test_a_job_with_results_not_read_is_kept_unless_forced(
        caplog: pytest.LogCaptureFixture) -> None:
    with executor(data_cleaner=False) as fexec:
        futures = fexec.map(fn.double, [1, 2])
        fexec.wait(futures)
        job = keys.job_prefix(futures[0].job_key)
        with caplog.at_level(logging.WARNING, logger="wren"):
            fexec.clean(futures)
        assert _keys(fexec, job) != [] and "results not read" in caplog.text
        assert fexec.get_result(futures) == [2, 4]
        fexec.clean(futures[:1])  # the whole job is read now, whichever futures name it
        assert _keys(fexec, job) == []


def test_failed_calls_count_as_read() -> None:
    with executor(data_cleaner=False) as fexec:
        futures = fexec.map(fn.fail_on, [1, 2], extra_args=(2,))
        assert futures[0].result() == 1
        fexec.wait(futures, throw_except=False)
        fexec.clean(futures)
        assert _keys(fexec, keys.job_prefix(futures[0].job_key)) == []


def test_force_cleans_a_running_job_and_what_it_writes_later() -> None:
    fexec = executor()
    futures = fexec.map(fn.sleep_then, [(0.5, "late")])
    job, logs = keys.job_prefix(futures[0].job_key), keys.logs_prefix(futures[0].job_key)
    fexec.clean(futures)
    fexec.clean(futures, force=True)
    fexec.wait(futures, timeout=10)  # the call kept running, and reported afterwards
    assert _keys(fexec, job) != [], "the late status is there until the next clean"
    fexec.close()
    assert _keys(fexec, job) == [] and _keys(fexec, logs) == []


def test_cloud_objects_of_another_storage_backend_are_left_alone(
        caplog: pytest.LogCaptureFixture) -> None:
    with executor() as fexec:
        storage = wren.Storage.from_backend(fexec.storage)
        mine = storage.put_cloudobject(b"mine")
        foreign = wren.CloudObject("somewhere", mine.bucket, mine.key)
        with caplog.at_level(logging.WARNING, logger="wren"):
            fexec.clean(cs=[foreign])
        assert "not cleaning somewhere://" in caplog.text
        assert storage.get_cloudobject(mine) == b"mine"
        with pytest.raises(wren.InvalidInputError, match="cs= takes CloudObjects.*str"):
            fexec.clean(cs=[mine, mine.key])
        assert storage.get_cloudobject(mine) == b"mine", "nothing deleted before the check"
        fexec.clean(cs=mine)
        assert _keys(fexec, mine.key) == []


def test_cs_alone_leaves_the_jobs_alone() -> None:
    with executor(data_cleaner=False) as fexec:
        futures = fexec.map(fn.store_text, ["a"])
        made = fexec.get_result(futures)
        fexec.clean(cs=[])
        assert _keys(fexec, keys.job_prefix(futures[0].job_key)) != []
        assert made[0].key.startswith(keys.job_cloudobjects_prefix(futures[0].job_key))


def test_a_client_side_cloud_object_is_not_tied_to_a_job() -> None:
    with executor() as fexec:
        made = wren.Storage.from_backend(fexec.storage).put_cloudobject(b"x")
        assert made.key.count("/") == 1 and made.key.startswith(keys.CLOUDOBJECTS_PREFIX)
        fexec.call_async(fn.double, 1).result()
        fexec.clean()
        time.sleep(0.05)
        assert _keys(fexec, made.key) == [made.key]


def _stored(*names: str) -> tuple[MemoryStorage, Cleaner]:
    storage = MemoryStorage()
    for name in names:
        storage.put_object("b", name, b"x")
    return storage, Cleaner(storage, "b")


def test_the_cleaner_thread_starts_with_the_executor_not_in_the_first_get_result() -> None:
    """Starting a thread took the first job's `get_result` a fraction of a millisecond on a
    busy machine: the executor starts its cleaner when it is created (when it cleans)."""
    with executor() as fexec:
        thread = fexec._cleaner._thread
        assert thread is not None and thread.is_alive()
        assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]
        assert fexec._cleaner._thread is thread
    assert not thread.is_alive()
    with executor(data_cleaner=False) as fexec:
        assert fexec._cleaner._thread is None


def test_flush_deletes_at_once_without_waiting_for_more(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(cleaner_module, "COALESCE_SECONDS", 30.0)
    storage, cleaner = _stored("wren.jobs/e/M000/a", "wren.jobs/e/M001/b")
    cleaner._put(("b", [], ["wren.jobs/e/M000/"]))
    cleaner._put(("b", [], ["wren.jobs/e/M001/"]))
    started = time.monotonic()
    cleaner.flush()
    assert time.monotonic() - started < 10 and storage.list_keys("b", "wren.jobs/") == []
    cleaner.stop()


def test_background_deletions_happen_without_a_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cleaner_module, "COALESCE_SECONDS", 0.05)
    storage, cleaner = _stored("wren.jobs/e/M000/a")
    cleaner._put(("b", [], ["wren.jobs/e/M000/"]))
    deadline = time.monotonic() + 10
    while storage.list_keys("b", "wren.jobs/") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert storage.list_keys("b", "wren.jobs/") == []
    cleaner.stop()

"""`wren.own_objects.delete_own_objects`: what this process's executors stored goes (job
data, logs, call-made cloud objects, the function blobs it uploaded); another process's jobs
and function blobs that were already stored stay."""

from __future__ import annotations

import pytest
import wren
from wren.executor import session_id
from wren.own_objects import delete_own_objects
from wren.protocol import keys

pytestmark = [pytest.mark.usefixtures("thread_backends"), pytest.mark.timeout(60)]


def _shout(text: str) -> str:
    print(text)  # leaves a log object
    return text.upper()


def _whisper(text: str) -> str:
    return text.lower()


def test_only_this_process_objects_are_deleted() -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as first:
        storage, bucket = first.storage, first.bucket
        # someone else's: another process's job, and a function stored before this run
        theirs = [f"{keys.JOBS_PREFIX}zzzzzz-0/M000/status/t00000.0000.status",
                  f"{keys.LOGS_PREFIX}zzzzzz-0/M000/t00000.0000.log"]
        for key in theirs:
            storage.put_object(bucket, key, b"theirs")
        first.get_result(first.map(_whisper, ["A"]))
        known = storage.list_keys(bucket, keys.FUNCS_PREFIX)
        assert len(known) == 1
    from wren.client import builder

    builder.STORED_HERE.difference_update(known)  # as if another process had stored it
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as second:
        futures = second.map(_shout, ["a", "b"])
        assert [f.result() for f in futures] == ["A", "B"]  # read, not through get_result
    mine = [key for key in storage.list_keys(bucket) if session_id() in key]
    assert mine  # statuses of results read through futures, logs
    assert len(storage.list_keys(bucket, keys.FUNCS_PREFIX)) == 2

    removed = delete_own_objects(storage, bucket)
    assert removed == len(mine) + 1  # and _shout's blob, which this process uploaded
    assert sorted(storage.list_keys(bucket)) == sorted([*theirs, *known])
    assert delete_own_objects(storage, bucket) == 0

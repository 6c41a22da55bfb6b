"""The pool's slot table: the running call of each worker, and the pool's request for the
calls a worker has not started."""

from __future__ import annotations

from pathlib import Path

from wren.worker.pool.slots import IDLE, SlotTable, group_mark, marked_call


def test_each_row_keeps_its_call_and_its_request_apart(tmp_path: Path) -> None:
    pool = SlotTable(str(tmp_path / "slots"), 2, create=True)
    pool.reset(0)
    pool.reset(1)
    worker = SlotTable(pool.path, 2)
    view, at = worker.mark(1)
    view[at] = 41
    assert pool.read(1) == 41 and pool.read(0) == IDLE
    assert not worker.asked_back(1)
    pool.ask_back(1)
    assert not worker.asked_back(0) and pool.read(1) == 41  # the call index is untouched
    assert worker.asked_back(1) and not worker.asked_back(1)  # answered once
    pool.ask_back(1)
    pool.ask_back(1, False)  # taken back
    assert not worker.asked_back(1)
    pool.grow(4)
    pool.reset(3)
    pool.ask_back(3)
    assert pool.read(1) == 41 and pool.asked_back(3)


def test_a_group_mark_names_its_first_call_and_never_a_single_one() -> None:
    assert [marked_call(mark) for mark in (IDLE, 0, 7)] == [(IDLE, True), (0, True), (7, True)]
    assert [marked_call(group_mark(first)) for first in (0, 1, 5000)] == [
        (0, False), (1, False), (5000, False)]
    assert all(group_mark(first) < IDLE for first in (0, 1, 5000))

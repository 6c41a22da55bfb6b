"""Futures as iterdata on the client: what `chained_items` puts in the payloads (Lithops 3.8
chains a job's futures into the next job the same way: each call gets one result)."""

from __future__ import annotations

from typing import Any

import pytest
from wren import InvalidInputError
from wren.client.chaining import chained_items
from wren.client.futures import futures_of
from wren.client.job import JobState
from wren.protocol import keys
from wren.protocol.result_ref import ResultRef
from wren.protocol.status import StatusDocument, error_info
from wren.protocol.task import JobKind


class Session:
    """Records the waits; every call is already done."""

    def __init__(self) -> None:
        self.waited: list[list[Any]] = []

    def wait(self, futures: Any, return_when: str = "", timeout: float | None = None,
             throw_except: bool = True) -> tuple[list[Any], list[Any]]:
        self.waited.append(list(futures))
        return list(futures), []


def finished_job(session: Session, n: int = 3, failed: int | None = None) -> JobState:
    job = JobState(session, "e1", JobKind.MAP, 0, n)  # type: ignore[arg-type]
    document = StatusDocument(job.job_key, "t00001", 2, "r", {})
    for index in range(n):
        document.add(index, 0.0, 1.0, error_info("KeyError", "bad") if index == failed
                     else None)
    job.apply(document)
    return job


def test_plain_items_are_left_alone() -> None:
    session = Session()
    assert chained_items([1, (2, 3)], session) == ([1, (2, 3)], [])
    assert session.waited == []


def test_futures_become_refs_to_their_status_and_count_as_read() -> None:
    session = Session()
    job = finished_job(session)
    futures = futures_of(job)
    items, jobs = chained_items([futures[2], futures[0]], session)
    status = keys.status_key(job.job_key, "t00001", 2)
    assert items == [ResultRef(job.job_key, 2, status), ResultRef(job.job_key, 0, status)]
    assert jobs == [job] and session.waited == [[futures[2], futures[0]]]
    assert list(job.read) == [1, 0, 1]  # Lithops: chained futures give no output


def test_a_cleaned_job_passes_the_values_read_before() -> None:
    session = Session()
    job = finished_job(session, failed=1)
    job.values[0] = "zero"
    job.exceptions[1] = KeyError("bad")
    job.cleaned = True
    futures = futures_of(job)
    assert chained_items([futures[0]], session)[0] == ["zero"]
    with pytest.raises(InvalidInputError, match="already cleaned"):
        chained_items([futures[1]], session)
    with pytest.raises(InvalidInputError, match="already cleaned"):
        chained_items([futures[2]], session)  # never downloaded


def test_foreign_and_mixed_futures_are_refused() -> None:
    ours, theirs = Session(), Session()
    mine, other = futures_of(finished_job(ours)), futures_of(finished_job(theirs))
    with pytest.raises(InvalidInputError, match="sealed with that executor's key"):
        chained_items([mine[0], other[0]], ours)
    with pytest.raises(InvalidInputError, match=r"mixes futures with plain values \(item 1"):
        chained_items([mine[0], 7], ours)
    assert ours.waited == []

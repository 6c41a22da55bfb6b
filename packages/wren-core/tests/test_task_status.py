"""Task payloads and status documents survive their transports unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from wren.protocol.status import StatusDocument, error_info
from wren.protocol.task import Task
from wren.protocol.version import MalformedDocumentError, ProtocolVersionError


def make_task(**changes: object) -> Task:
    fields = dict(job_key="abc-0/M000", task_id="t00001", func_key="wren.funcs/x.fn",
                  call_indices=range(10, 20), data_range=(0, 5), storage_backend="localhost",
                  storage_config={"storage_dir": "/tmp/x"}, bucket="b",
                  inline_data=b"\x00\x01binary")
    fields.update(changes)
    return Task(**fields)  # type: ignore[arg-type]


def test_json_form_round_trips_with_base64_data() -> None:
    task = make_task()
    wire = json.dumps(task.to_dict())
    assert Task.from_dict(json.loads(wire)) == task
    assert task.to_dict()["call_indices"] == {"range": [10, 20]}


def test_binary_form_keeps_bytes() -> None:
    task = make_task()
    assert task.to_dict(binary=True)["inline_data"] == b"\x00\x01binary"
    assert Task.from_dict(task.to_dict(binary=True)) == task


def test_subset_names_positions_in_the_parent_list() -> None:
    retry = make_task().subset([12, 15], ".r1")
    assert (retry.task_id, list(retry.call_indices), retry.positions, retry.attempt) == (
        "t00001.r1", [12, 15], [2, 5], 1)
    again = retry.subset([15], ".r2")
    assert again.positions == [5] and again.attempt == 2


def test_split_keeps_contiguous_calls_as_ranges_on_the_wire() -> None:
    task = make_task()
    first = task.call_indices[0]
    head, rest = task.split(3)
    assert (head.task_id, head.call_indices, head.positions, head.attempt) == (
        f"{task.task_id}.s{first}", range(first, first + 3), range(0, 3), task.attempt)
    assert (rest.task_id, rest.call_indices, rest.positions) == (
        task.task_id, range(first + 3, task.call_indices[-1] + 1),
        range(3, len(task.call_indices)))
    assert head.args_context() == rest.args_context() == task.args_context()
    wire = json.dumps(head.to_dict())
    assert json.loads(wire)["positions"] == {"range": [0, 3]}
    assert Task.from_dict(json.loads(wire)) == head
    assert Task.from_dict(rest.to_dict(binary=True)) == rest


def test_split_of_a_retried_subset_keeps_its_positions() -> None:
    retry = make_task().subset([12, 15, 17], ".r1")
    head, rest = retry.split(1)
    assert (list(head.call_indices), head.positions) == ([12], [2])
    assert (list(rest.call_indices), rest.positions, rest.attempt) == ([15, 17], [5, 7], 1)
    assert Task.from_dict(json.loads(json.dumps(rest.to_dict()))) == rest


@pytest.mark.parametrize("positions", [["x"], {"range": [0]}, "0-3"])
def test_malformed_positions_are_refused(positions: Any) -> None:
    raw = make_task().to_dict()
    raw["positions"] = positions
    with pytest.raises(MalformedDocumentError):
        Task.from_dict(raw)


def test_status_document_round_trip_and_positions() -> None:
    document = StatusDocument("abc-0/M000", "t00001", 2, "wren.jobs/r", {"host": "h"})
    for index in (3, 4, 5):
        document.add(index, 1.0, 2.0, None if index != 4 else error_info("E", "bad"))
    decoded = StatusDocument.decode(document.encode())
    assert decoded.name == "t00001.0002"
    assert isinstance(decoded.indices, range)  # contiguous calls travel as a range
    assert [decoded.position(i) for i in (3, 4, 5)] == [0, 1, 2]
    assert decoded.errors == {1: error_info("E", "bad")}
    assert not decoded.ok(1) and decoded.ok(0)


def test_status_document_with_scattered_calls() -> None:
    document = StatusDocument("j/M0", "t", 0, None, {})
    for index in (9, 2, 7):
        document.add(index, 0.0, 0.0)
    decoded = StatusDocument.decode(document.encode())
    assert list(decoded.indices) == [9, 2, 7] and decoded.position(7) == 2


def test_other_versions_are_refused_with_advice() -> None:
    document = json.loads(StatusDocument("e/M000", "t0", 0, None, {}).encode())
    document.update(protocol=99, wren_version="9.9.9")
    with pytest.raises(ProtocolVersionError, match=r"wren 9\.9\.9 \(protocol 99\).*same wren version"):
        StatusDocument.decode(json.dumps(document).encode())
    task = make_task().to_dict()
    task.update(protocol=0, wren_version="0.1.0")
    with pytest.raises(ProtocolVersionError, match=r"wren 0\.1\.0 .*same wren version"):
        Task.from_dict(task)


@pytest.mark.parametrize("raw", [
    b"\x80\x04K\x01.",  # a pickle: never unpickled
    b"[1, 2]", b'{"kind": "status"}', b"not json",
])
def test_what_is_not_a_status_document_is_refused_as_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedDocumentError):
        StatusDocument.decode(raw)


def test_a_status_document_with_columns_that_do_not_line_up_is_refused() -> None:
    document = json.loads(StatusDocument("e/M000", "t0", 0, None, {},
                                         range(0, 2), [1.0, 2.0], [1.0, 2.0]).encode())
    document["func_end"] = [1.0]
    with pytest.raises(MalformedDocumentError, match="line up"):
        StatusDocument.decode(json.dumps(document).encode())
    document["func_end"] = [1.0, 2.0]
    document["errors"] = {"0": {"type": "X", "message": "m", "kind": "spooky"}}
    with pytest.raises(MalformedDocumentError, match="spooky"):
        StatusDocument.decode(json.dumps(document).encode())


@pytest.mark.parametrize("times", [[1.0, True], [1.0, "2.0"], [1.0, None], [1.0, [2.0]],
                                   {"0": 1.0}])
def test_call_times_that_are_not_plain_numbers_are_refused(times: object) -> None:
    document = json.loads(StatusDocument("e/M000", "t0", 0, None, {},
                                         range(0, 2), [1.0, 2.0], [1.0, 2]).encode())
    StatusDocument.decode(json.dumps(document).encode())  # ints and floats: accepted
    document["func_start"] = times
    with pytest.raises(MalformedDocumentError):
        StatusDocument.decode(json.dumps(document).encode())


def test_long_time_columns_travel_packed_and_come_back_exactly() -> None:
    from wren.protocol.fields import PACK_TIMES_FROM

    n = PACK_TIMES_FROM + 1
    starts = [1765000000.0 + i / 3 for i in range(n)]
    ends = [start + 1e-7 for start in starts]
    raw = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n), starts, ends).encode()
    columns = json.loads(raw)
    assert set(columns["func_start"]) == {"f64le"}  # packed, not a list of decimal numbers
    decoded = StatusDocument.decode(raw)
    assert decoded.func_start == starts and decoded.func_end == ends  # bit for bit
    short = json.loads(StatusDocument("e/M000", "t0", 0, None, {}, range(0, 2),
                                      [1.5, 2.5], [2.0, 3.0]).encode())
    assert short["func_start"] == [1.5, 2.5]  # a short column stays readable


def test_a_workers_array_columns_travel_as_lists_would() -> None:
    """A worker keeps its time columns as `array("d")` (its memory is the packed form): the
    document it writes is the one lists would give, byte for byte, short or long."""
    from array import array

    from wren.protocol.fields import PACK_TIMES_FROM

    for n in (2, PACK_TIMES_FROM, PACK_TIMES_FROM + 1, 5000):
        starts = [1765000000.0 + i / 3 for i in range(n)]
        ends = [start + 1e-7 for start in starts]
        as_lists = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n), starts, ends)
        as_arrays = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n),
                                   array("d", starts), array("d", ends))
        assert as_arrays.encode() == as_lists.encode()
        decoded = StatusDocument.decode(as_arrays.encode())
        assert decoded.func_start == starts and decoded.func_end == ends
    document = StatusDocument("e/M000", "t0", 0, None, {}, func_start=array("d"),
                              func_end=array("d"))
    document.add(0, 1.5, 2.5)  # a worker's document is written like any other
    assert StatusDocument.decode(document.encode()).func_end == [2.5]


def test_chained_starts_travel_as_the_first_start_and_read_from_the_ends() -> None:
    """Calls that ran one after another (a worker's loop) have each started when the one
    before it ended: the start column travels as `{"after": first}` and is read back from
    the end column, whatever its length; forged forms are refused as malformed."""
    from array import array

    from wren.protocol.fields import PACK_TIMES_FROM, ChainedStarts

    for n in (1, 3, PACK_TIMES_FROM + 5, 5000):
        ends = array("d", [1765000000.0 + (i + 1) / 3 for i in range(n)])
        document = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n),
                                  ChainedStarts(1765000000.0, ends), ends)
        raw = document.encode()
        assert json.loads(raw)["func_start"] == {"after": 1765000000.0}
        decoded = StatusDocument.decode(raw)
        starts = [1765000000.0, *list(ends)[:-1]]
        assert isinstance(decoded.func_start, ChainedStarts)
        assert list(decoded.func_start) == starts and decoded.func_start == starts
        assert decoded.func_start[0] == starts[0] and decoded.func_start[-1] == starts[-1]
        assert decoded.func_start[1:3] == starts[1:3] and decoded.func_end == list(ends)
        assert StatusDocument.decode(decoded.encode()) == decoded  # stored again as it came
    with pytest.raises(IndexError):
        decoded.func_start[5000]
    for forged in ({"after": "soon"}, {"after": True}, {"before": 1.0}):
        data = json.loads(raw)
        data["func_start"] = forged
        with pytest.raises(MalformedDocumentError):
            StatusDocument.decode(json.dumps(data).encode())


def test_a_packed_column_is_decoded_only_when_read() -> None:
    from wren.protocol.fields import PACK_TIMES_FROM, PackedTimes

    n = PACK_TIMES_FROM * 3 + 1
    starts = [1765000000.0 + i / 7 for i in range(n)]
    ends = [start + 1e-7 * i for i, start in enumerate(starts)]
    raw = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n), starts, ends).encode()
    decoded = StatusDocument.decode(raw)
    column = decoded.func_start
    assert isinstance(column, PackedTimes) and len(column) == n
    # the first and last times (what chunk sizing reads) come without decoding the rest
    assert column[0] == starts[0] and column[-1] == starts[-1]
    assert column._values is None
    assert [decoded.func_end[i] for i in range(n)] == ends  # bit for bit, every position
    assert list(column) == starts and column[5:8] == starts[5:8]
    assert decoded.func_end == ends and decoded == StatusDocument.decode(raw)
    with pytest.raises(IndexError):
        StatusDocument.decode(raw).func_start[n]
    # encoded again (a stored copy), a column that came packed goes out as it came
    assert json.loads(decoded.encode())["func_start"] == json.loads(raw)["func_start"]
    with pytest.raises(TypeError, match="being written"):
        decoded.add(n, 1.0, 2.0)


def test_bad_characters_in_a_packed_column_fail_when_it_is_read() -> None:
    from wren.protocol.fields import PackedTimes

    column = PackedTimes("A!AAAAAAAAA=")  # one double by length, not base64 by content
    assert len(column) == 1
    with pytest.raises(ValueError):
        column[0]
    with pytest.raises(ValueError):
        list(column)


@pytest.mark.parametrize("packed", ["not base64!", "AAAAAAAA", "AAAAAAAA8D8A", 7])
def test_packed_time_columns_that_are_not_whole_doubles_are_refused(packed: object) -> None:
    document = json.loads(StatusDocument("e/M000", "t0", 0, None, {},
                                         range(0, 1), [1.0], [1.0]).encode())
    document["func_start"] = {"f64le": packed}
    with pytest.raises(MalformedDocumentError):
        StatusDocument.decode(json.dumps(document).encode())


def _grouped_ends(n: int, group: int = 16) -> tuple[object, list[float]]:
    """A worker's end column of `n` calls timed in groups (`EndRuns`), and its calls."""
    from wren.protocol.fields import EndRuns

    runs = EndRuns()
    calls: list[float] = []
    while len(calls) < n:
        size = min(group, n - len(calls))
        end = 1765000000.0 + len(calls) / 3
        runs.ends.append(end)
        runs.counts.append(size)
        calls += [end] * size
    return runs, calls


def test_end_runs_travel_as_runs_and_come_back_call_by_call() -> None:
    """A worker times short calls a group at a time, whose calls end together: a long end
    column with such runs travels as `{"f64le": run ends, "runs": counts}` (a fifth of the
    packed column for groups of 16), is read back call by call, and stored again as it
    came; a column of single calls, or a short one, travels as before."""
    from wren.protocol.fields import PACK_TIMES_FROM, ChainedStarts, EndRuns, RunTimes

    for n in (3, PACK_TIMES_FROM + 5, 5000):
        runs, calls = _grouped_ends(n)
        document = StatusDocument("e/M000", "t0", 0, None, {}, range(0, n),
                                  ChainedStarts(1765000000.0, runs), runs)
        raw = document.encode()
        decoded = StatusDocument.decode(raw)
        assert decoded.func_end == calls and len(decoded.func_end) == n
        assert list(decoded.func_start) == [1765000000.0, *calls[:-1]]
        assert StatusDocument.decode(decoded.encode()) == decoded
        if n > PACK_TIMES_FROM:
            assert set(json.loads(raw)["func_end"]) == {"f64le", "runs"}
            assert isinstance(decoded.func_end, RunTimes)
        else:
            assert json.loads(raw)["func_end"] == calls
    plain = [1765000000.0 + i / 7 for i in range(500)]
    singles = EndRuns()
    for end in plain:
        singles.append(end)
    assert StatusDocument("e/M000", "t0", 0, None, {}, range(0, 500), plain, singles
                          ).encode() == StatusDocument("e/M000", "t0", 0, None, {},
                                                       range(0, 500), plain, plain).encode()
    runs, calls = _grouped_ends(5000)
    grouped = StatusDocument("e/M000", "t0", 0, None, {}, range(0, 5000),
                             ChainedStarts(1765000000.0, runs), runs).encode()
    every = StatusDocument("e/M000", "t0", 0, None, {}, range(0, 5000),
                           ChainedStarts(1765000000.0, calls), calls).encode()
    assert len(grouped) * 4 < len(every)


def test_run_times_give_their_first_and_last_times_without_expanding() -> None:
    from wren.protocol.fields import RunTimes

    runs, calls = _grouped_ends(1000)
    raw = StatusDocument("e/M000", "t0", 0, None, {}, range(0, 1000), list(calls), runs).encode()
    column = StatusDocument.decode(raw).func_end
    assert isinstance(column, RunTimes) and len(column) == 1000
    assert column[0] == calls[0] and column[-1] == calls[-1] and column._values is None
    assert [column[i] for i in range(1000)] == calls and column[10:20] == calls[10:20]
    with pytest.raises(IndexError):
        column[1000]


@pytest.mark.parametrize("runs", [
    "AAAAABAAAAA=",  # a count of 0
    "EAAAAA==",  # one count for two run ends
    "EAAAABAAAAAQAAAA",  # three counts for two run ends
    "EAAA",  # not whole 4-byte counts
    "not base64!",
    7,
])
def test_forged_runs_of_call_times_are_refused(runs: object) -> None:
    import base64
    from array import array

    document = json.loads(StatusDocument("e/M000", "t0", 0, None, {}, range(0, 32),
                                         [1.0] * 32, [1.0] * 32).encode())
    document["func_end"] = {"f64le": base64.b64encode(array("d", [1.0, 2.0])).decode(),
                            "runs": runs}
    with pytest.raises(MalformedDocumentError):
        StatusDocument.decode(json.dumps(document).encode())
    document["func_end"]["runs"] = base64.b64encode(array("I", [16, 15])).decode()
    with pytest.raises(MalformedDocumentError, match="line up"):  # 31 calls, not 32
        StatusDocument.decode(json.dumps(document).encode())


def test_end_runs_fit_a_count_of_calls() -> None:
    """What a failing call's filing does: drop its own end if it came, add the calls of an
    untimed group at the loop's last reading."""
    from wren.protocol.fields import EndRuns

    runs = EndRuns()
    runs.ends.extend([1.0, 2.0])
    runs.counts.extend([16, 3])
    runs.fit(17, 9.0)
    assert list(runs) == [1.0] * 16 + [2.0] and len(runs.ends) == 2
    runs.fit(16, 9.0)
    assert list(runs) == [1.0] * 16 and len(runs.ends) == 1
    runs.fit(20, runs.last(0.0))
    assert list(runs) == [1.0] * 20 and list(runs.counts) == [16, 4]
    assert EndRuns().last(5.0) == 5.0 and not EndRuns() and len(EndRuns()) == 0

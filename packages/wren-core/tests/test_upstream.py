"""Calls whose arguments are results of earlier calls (`ResultRef`s: futures passed as
iterdata), run in-process: the worker reads and authenticates the status and the result,
never unpickles a forged one, and re-raises a failed input's own exception (Lithops 3.8's
chained calls re-raise it too)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from wren import TamperedDataError
from wren.client.binding import ArgumentBinder
from wren.client.builder import JobBuilder, JobSpec
from wren.ports import ComputeBackend, WorkerStorage
from wren.protocol import keys
from wren.protocol.binding import CallMode
from wren.protocol.result_ref import ResultRef
from wren.protocol.results import load_document_values, result_object
from wren.protocol.signing import new_key
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task
from wren.serialize import CloudpickleSerializer
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn
from wren.testing.contract.hostile import with_embedded
from wren.worker import run_task
from wren.worker.upstream import mentions_results

UNPICKLED: list[str] = []


def _unpickled() -> None:
    UNPICKLED.append("ran")


class Trap:
    def __reduce__(self) -> Any:
        return (_unpickled, ())


class PlanOnly(ComputeBackend):
    name = "plan-only"
    max_payload_bytes = 1 << 20

    def invoke(self, tasks: Any, listener: Any) -> None:
        raise AssertionError("not used")


def run_job(storage: MemoryStorage, job_id: str, func: Any, items: list[Any],
            **binder: Any) -> list[Task]:
    compute = PlanOnly({"max_workers": 1}, WorkerStorage("memory", {}, {}))
    builder = JobBuilder("exec-0", storage, "b", CloudpickleSerializer(), compute, TEST_KEY)
    bound = ArgumentBinder(func, **binder).bind_all(items)
    tasks = builder.build(JobSpec(func, bound, job_id, 60.0, chunksize=1))
    for task in tasks:
        run_task(task, storage, key=TEST_KEY)
    return tasks


def outcomes(storage: MemoryStorage, job_key: str) -> dict[int, Any]:
    found = {}
    for key in storage.list_keys("b", keys.status_prefix(job_key)):
        document = StatusDocument.open(storage.get_object("b", key), TEST_KEY)
        blob = result_object(document, storage, "b")
        values = load_document_values(document, blob, CloudpickleSerializer(), TEST_KEY)
        found.update(zip(document.indices, values))
    return found


def refs(storage: MemoryStorage, tasks: list[Task]) -> list[ResultRef]:
    found = []
    for task in tasks:
        for index in task.call_indices:
            found.append(ResultRef(task.job_key, index,
                                   keys.status_key(task.job_key, task.task_id, 0)))
    return found


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def test_refs_arrive_as_the_results_they_name(storage: MemoryStorage) -> None:
    first = run_job(storage, "M000", fn.double, [1, 2, [3, 4]])
    inputs = refs(storage, first)
    (job_key,) = {t.job_key for t in run_job(storage, "M001", fn.double, inputs)}
    assert outcomes(storage, job_key) == {0: 4, 1: 8, 2: [3, 4] * 4}
    # with extra_params the refs sit in keyword payloads, and still arrive as values
    (job_key,) = {t.job_key for t in run_job(storage, "M002", fn.add, inputs[:2],
                                             extra_params={"y": 100})}
    assert outcomes(storage, job_key) == {0: 102, 1: 104}


def test_a_failed_input_is_its_own_exception_again(storage: MemoryStorage) -> None:
    first = run_job(storage, "M000", fn.fail_on, [(0, 1), (1, 1)])
    (job_key,) = {t.job_key for t in run_job(storage, "M001", fn.double,
                                             refs(storage, first))}
    found = outcomes(storage, job_key)
    assert found[0] == 0 and isinstance(found[1], KeyError)
    assert "call 1 is the bad one" in str(found[1])


def test_forged_inputs_are_refused_before_anything_is_unpickled(storage: MemoryStorage
                                                                ) -> None:
    first = run_job(storage, "M000", fn.double, [1, 2, 3, 4])
    inputs = refs(storage, first)
    raws = [storage.get_object("b", r.status_key) for r in inputs]
    documents = [StatusDocument.open(raw, TEST_KEY) for raw in raws]
    assert all(d.inline_result is not None for d in documents)  # small: in the status
    storage.put_object("b", inputs[0].status_key,  # a bare pickle as the embedded result
                       with_embedded(raws[0], pickle.dumps([Trap()])))
    storage.put_object("b", inputs[1].status_key,  # another call's result, moved in
                       with_embedded(raws[1], bytes(documents[3].inline_result or b"")))
    forged = documents[2]
    storage.put_object("b", inputs[2].status_key, forged.seal(new_key()))  # another key
    moved = [inputs[0], inputs[1], inputs[2],
             ResultRef(inputs[3].job_key, 3, inputs[0].status_key)]  # names another call
    (job_key,) = {t.job_key for t in run_job(storage, "M001", fn.double, moved)}
    found = outcomes(storage, job_key)
    assert all(isinstance(found[i], TamperedDataError) for i in range(4)), found
    assert "does not report call 3" in str(found[3])
    assert UNPICKLED == []


def test_only_tasks_that_hold_refs_read_results() -> None:
    ref = ResultRef("e/M000", 0, "k")
    assert mentions_results([1, ref], CallMode.VALUE)
    assert not mentions_results([1, (ref,)], CallMode.VALUE)  # a value that holds one
    assert mentions_results([((ref,), {}), {"x": 1}], CallMode.ARGS)
    assert mentions_results([{"x": ref}], CallMode.ARGS)
    assert not mentions_results([{"x": 1}, ((2,), {})], CallMode.ARGS)


def test_the_executor_tells_workers_whether_arguments_name_results(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import wren
    from wren.client import builder as builder_module

    built: list[Task] = []
    original = builder_module.JobBuilder.build

    def keep(self: Any, spec: JobSpec) -> list[Task]:
        tasks = original(self, spec)
        built.extend(tasks)
        return tasks

    monkeypatch.setattr(builder_module.JobBuilder, "build", keep)
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path), pool_idle_timeout=0) as fexec:
        first = fexec.map(fn.double, [1, 2, 3])
        assert fexec.get_result(first) == [2, 4, 6]
        plain = list(built)
        built.clear()
        assert fexec.get_result(fexec.map(fn.double, first)) == [4, 8, 12]
    assert plain and all(task.reads_results is False for task in plain)
    assert built and all(task.reads_results is True for task in built)


def test_a_task_that_names_no_results_is_not_searched_for_them(
        storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    from wren.worker import upstream

    searches: list[int] = []

    def searched(payloads: list[Any], mode: CallMode) -> bool:
        searches.append(len(payloads))
        return mentions_results(payloads, mode)

    monkeypatch.setattr(upstream, "mentions_results", searched)
    compute = PlanOnly({"max_workers": 1}, WorkerStorage("memory", {}, {}))
    builder = JobBuilder("exec-0", storage, "b", CloudpickleSerializer(), compute, TEST_KEY)
    bound = ArgumentBinder(fn.double).bind_all([1, 2])
    (task,) = builder.build(JobSpec(fn.double, bound, "M009", 60.0, reads_results=False))
    run_task(task, storage, key=TEST_KEY)
    assert outcomes(storage, task.job_key) == {0: 2, 1: 4}
    assert searches == []
    run_task(attrs_evolve(task, reads_results=None), storage, key=TEST_KEY)
    assert searches == [2]  # unsaid (a client of before): the worker looks


def test_reads_results_crosses_the_wire_and_must_be_a_boolean() -> None:
    from wren._errors import MalformedDocumentError

    task = Task("e/M000", "t00000", "wren.funcs/x.fn", range(0, 2), (0, 0), "memory", {},
                "b", reads_results=False)
    assert Task.from_dict(task.to_dict()).reads_results is False
    unsaid = task.to_dict()
    del unsaid["reads_results"]  # a client of before: the worker looks
    assert Task.from_dict(unsaid).reads_results is None
    with pytest.raises(MalformedDocumentError, match="reads_results"):
        Task.from_dict({**task.to_dict(), "reads_results": "no"})


def attrs_evolve(task: Task, **changes: Any) -> Task:
    return task.with_changes(**changes)

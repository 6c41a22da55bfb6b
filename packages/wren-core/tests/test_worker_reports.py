"""What `run_task` reports besides results: per-call output, cold starts, and status pushes
to the monitor a task names, with the broker's URL from the private config only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from wren.client.binding import ArgumentBinder
from wren.monitoring.settings import MonitoringPlan
from wren.protocol import keys
from wren.protocol.logs import decode_logs
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task, TaskOptions
from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
from wren.serialize.function_blob import pack_function
from wren.testing import TEST_KEY
from wren.worker import open_storage, run_task
from wren.worker.storage_access import SERVICES_KEY, services_of


def chatty(x: int) -> int:
    if x % 2:
        print(f"odd {x}")
    return x


def _task(storage: Any, func: Any, n: int, options: TaskOptions | None = None) -> Task:
    serializer = CloudpickleSerializer()
    blob = pack_function(func, serializer, None, (), frozenset())
    key = keys.func_key(blob.digest)
    storage.put_object("b", key, blob.data)
    calls = ArgumentBinder(func).bind_all(list(range(n)))
    data = serializer.dumps(calls.payloads)  # inline: the invocation vouches for it
    return Task(job_key="ex-0/M000", task_id="t00000", func_key=key, call_indices=range(n),
                data_range=(0, len(data)), storage_backend="localhost",
                storage_config=dict(storage.config), bucket="b", binding=calls.binding,
                inline_data=data, options=options or TaskOptions())


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    found = open_storage("localhost", {"storage_dir": str(tmp_path), "storage_bucket": "b"},
                         {})
    found.create_bucket("b")
    return found


def test_output_is_stored_per_call_with_the_status(storage: Any) -> None:
    pushed: list[StatusDocument] = []
    run_task(_task(storage, chatty, 6), storage, key=TEST_KEY, push=lambda doc, raw: pushed.append(doc))
    [document] = pushed
    assert document.worker["logs_key"] == keys.logs_key("ex-0/M000", "t00000", 0)
    assert document.extra == {1: {"worker_log_bytes": 6}, 3: {"worker_log_bytes": 6},
                              5: {"worker_log_bytes": 6}}
    assert decode_logs(storage.get_object("b", document.worker["logs_key"])) == {
        1: "odd 1\n", 3: "odd 3\n", 5: "odd 5\n"}
    assert isinstance(document.worker["cold_start"], bool)


def test_silent_calls_store_no_log_object(storage: Any) -> None:
    pushed: list[StatusDocument] = []
    run_task(_task(storage, chatty, 1), storage, key=TEST_KEY, push=lambda doc, raw: pushed.append(doc))
    assert "logs_key" not in pushed[0].worker
    assert storage.list_keys("b", keys.LOGS_PREFIX) == []


def test_only_the_first_task_of_a_process_is_a_cold_start(storage: Any) -> None:
    first: list[StatusDocument] = []
    run_task(_task(storage, chatty, 1), storage, key=TEST_KEY, push=lambda doc, raw: first.append(doc))
    second: list[StatusDocument] = []
    run_task(_task(storage, chatty, 1), storage, key=TEST_KEY, push=lambda doc, raw: second.append(doc))
    assert second[0].worker["cold_start"] is False


def test_service_secrets_come_out_of_the_private_config(tmp_path: Path) -> None:
    public = {"storage_dir": str(tmp_path), "storage_bucket": "b"}
    services = {"rabbitmq": {"amqp_url": "amqp://u:secret@127.0.0.1:1/"}}
    with_services = open_storage("localhost", public, {SERVICES_KEY: services})
    plain = open_storage("localhost", public, {})
    assert with_services is not plain
    assert SERVICES_KEY not in with_services.config
    assert services_of(with_services) == services and services_of(plain) == {}


def test_a_task_without_an_amqp_url_still_reports_through_storage(
        storage: Any, capfd: pytest.CaptureFixture[str]) -> None:
    plan = MonitoringPlan("rabbitmq", "ex-0", "amqp://u:p@127.0.0.1:1/")
    task = _task(storage, chatty, 2, plan.task_options)
    pushed: list[StatusDocument] = []
    run_task(task, storage, key=TEST_KEY, push=lambda doc, raw: pushed.append(doc))
    assert len(pushed) == 1
    assert storage.list_keys("b", keys.status_prefix("ex-0/M000"))
    assert "was given no amqp_url" in capfd.readouterr().err


def test_an_unreachable_broker_never_fails_the_task(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    plan = MonitoringPlan("rabbitmq", "ex-0", "amqp://u:p@127.0.0.1:1/")
    public = {"storage_dir": str(tmp_path), "storage_bucket": "b"}
    storage = open_storage("localhost", public, plan.worker_config({}))
    storage.create_bucket("b")
    task = _task(storage, chatty, 3, plan.task_options)
    pushed: list[StatusDocument] = []
    run_task(task, storage, key=TEST_KEY, push=lambda doc, raw: pushed.append(doc))
    assert [len(d) for d in pushed] == [3] and not pushed[0].errors
    assert "could not push a status to RabbitMQ" in capfd.readouterr().err

"""`monitoring: rabbitmq` against a real RabbitMQ broker (tests/servers/rabbitmq.py).

The whole executor contract runs with statuses arriving through the broker; then what is
particular to it: storage is not polled, the executor's end removes its queue and thread,
and a broker restart in the middle of a job loses nothing.
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
import pytest
import wren
from wren.testing import functions as fn
from wren.testing.contract import (
    ExecutorContract,
    HostileMonitorContract,
    HostileStorageContract,
    PublishStatus,
)

from tests.servers.rabbitmq import RabbitMQServer, rabbitmq_server  # noqa: F401

MakeExecutor = Callable[..., wren.FunctionExecutor]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


@pytest.fixture
def make_executor(tmp_path: Path, rabbitmq_server: RabbitMQServer) -> MakeExecutor:  # noqa: F811
    def make(**overrides: Any) -> wren.FunctionExecutor:
        return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                     storage_dir=str(tmp_path / "storage"), worker_processes=2,
                                     monitoring="rabbitmq",
                                     config={"rabbitmq": {"amqp_url": rabbitmq_server.url}},
                                     **overrides)

    return make


class TestExecutorWithRabbitMQMonitor(ExecutorContract):
    @pytest.fixture
    def make_executor(self, make_executor: MakeExecutor) -> MakeExecutor:
        return make_executor  # this module's fixture


class TestRabbitMQMonitorUnderAttack(HostileStorageContract, HostileMonitorContract):
    """An attacker who can write the bucket and publish to the broker."""

    @pytest.fixture
    def make_executor(self, make_executor: MakeExecutor) -> MakeExecutor:
        return make_executor

    @pytest.fixture
    def publish_status(self, rabbitmq_server: RabbitMQServer  # noqa: F811
                       ) -> PublishStatus:
        def publish(fexec: wren.FunctionExecutor, body: bytes) -> None:
            connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server.url))
            try:
                connection.channel().basic_publish(
                    "", fexec._monitoring.status_queue, body)
            finally:
                connection.close()

        return publish


def _queue_exists(server: RabbitMQServer, queue: str) -> bool:
    connection = pika.BlockingConnection(pika.URLParameters(server.url))
    try:
        connection.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_statuses_arrive_through_the_broker_not_storage(make_executor: MakeExecutor) -> None:
    with make_executor() as fexec:
        assert fexec.get_result(fexec.map(fn.double, range(20), chunksize=5)) == [
            2 * i for i in range(20)]
        arrivals = fexec._monitor.arrivals
        assert arrivals["rabbitmq"] == 4
        # the pool's copies come through its server, which may be behind the broker: the
        # result never waits for them (they are only counted), so neither does this check
        wait_until(lambda: arrivals["adapter-ignored"] == 4)  # not listened to, counted
        assert arrivals["storage"] == 0 and fexec._monitor.polls == 0


def test_lithops_rabbitmq_monitor_flag_works(rabbitmq_server: RabbitMQServer,  # noqa: F811
                                             tmp_path: Path) -> None:
    with wren.FunctionExecutor(rabbitmq_monitor=True, storage_dir=str(tmp_path),
                               config={"rabbitmq": {"amqp_url": rabbitmq_server.url}}) as fexec:
        assert fexec.call_async(fn.add, (1, 2)).result() == 3
        assert fexec._monitor.arrivals["rabbitmq"] == 1


def test_wrong_credentials_fail_at_creation(rabbitmq_server: RabbitMQServer,  # noqa: F811
                                            tmp_path: Path) -> None:
    url = rabbitmq_server.url.replace("guest:guest", "guest:wrong")
    with pytest.raises(wren.MonitoringError, match="refused the user and password"):
        wren.FunctionExecutor(monitoring="rabbitmq", storage_dir=str(tmp_path),
                              config={"rabbitmq": {"amqp_url": url}})


def test_closing_the_executor_stops_its_listener_and_deletes_its_queue(
        make_executor: MakeExecutor, rabbitmq_server: RabbitMQServer) -> None:  # noqa: F811
    fexec = make_executor()
    assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]
    monitor, [listener] = fexec._monitor, fexec._monitor._feeds
    queue = fexec._monitoring.status_queue
    assert monitor.alive and listener.alive and _queue_exists(rabbitmq_server, queue)
    fexec.close()
    assert not monitor.alive and not listener.alive and not listener.connected
    assert not _queue_exists(rabbitmq_server, queue)


def test_a_dropped_executor_takes_its_monitor_with_it(make_executor: MakeExecutor,
                                                      rabbitmq_server: RabbitMQServer  # noqa: F811
                                                      ) -> None:
    fexec = make_executor()
    assert fexec.call_async(fn.double, 4).result() == 8
    monitor, [listener] = fexec._monitor, fexec._monitor._feeds
    queue = fexec._monitoring.status_queue
    gone = weakref.ref(fexec)
    del fexec
    gc.collect()
    assert gone() is None
    wait_until(lambda: not monitor.alive and not listener.alive)
    assert not _queue_exists(rabbitmq_server, queue)


def test_a_broker_restart_in_the_middle_of_a_job_loses_nothing(
        make_executor: MakeExecutor, rabbitmq_server: RabbitMQServer) -> None:  # noqa: F811
    with make_executor() as fexec:
        listener = fexec._monitor._feeds[0]
        futures = fexec.map(fn.sleep_then, [(0.25, i) for i in range(24)], chunksize=1)
        wait_until(lambda: fexec._monitor.arrivals["rabbitmq"] >= 2)
        rabbitmq_server.restart()
        assert fexec.get_result(futures, timeout=120) == list(range(24))
        wait_until(lambda: listener.connected and listener.reconnects >= 1, timeout=60)
        time.sleep(1.5)  # past the workers' pause after a refused connection
        before = fexec._monitor.arrivals["rabbitmq"]
        assert fexec.get_result(fexec.map(fn.double, [5]), timeout=60) == [10]
        wait_until(lambda: fexec._monitor.arrivals["rabbitmq"] > before)
    assert not listener.alive

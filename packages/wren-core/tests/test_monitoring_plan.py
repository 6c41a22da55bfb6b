"""`monitoring:` and the `rabbitmq:` section: validation, Lithops' spelling, and where the
AMQP URL may and may not travel."""

from __future__ import annotations

import json
import logging
import socket
import threading
from pathlib import Path

import pytest
import wren
from wren.config import load_config
from wren.monitoring import MonitoringPlan, mask_url
from wren.protocol.task import TaskOptions
from wren.worker.storage_access import SERVICES_KEY

URL = "amqp://wren:s3cret@broker.example:5672/jobs"


def _plan(**config: object) -> MonitoringPlan:
    return MonitoringPlan.from_config(load_config(config, read_files=False), "ab12cd-0")


def test_storage_is_the_default_and_asks_nothing_of_workers() -> None:
    plan = _plan()
    assert plan.kind == "storage" and plan.task_options == TaskOptions() and plan.status_queue is None
    assert plan.worker_config({"storage_dir": "/x"}) == {"storage_dir": "/x"}


def test_rabbitmq_plan_names_the_queue_and_keeps_the_url_private() -> None:
    plan = _plan(wren={"monitoring": "rabbitmq"}, rabbitmq={"amqp_url": URL})
    assert plan.status_queue == "wren.status.ab12cd-0"
    assert plan.task_options == TaskOptions(monitoring="rabbitmq",
                                            status_queue=plan.status_queue)
    assert "s3cret" not in json.dumps(plan.task_options.to_dict()) and "s3cret" not in repr(plan)
    private = plan.worker_config({"storage_dir": "/x"})
    assert private == {"storage_dir": "/x", SERVICES_KEY: {"rabbitmq": {"amqp_url": URL}}}


def test_lithops_rabbitmq_monitor_flag_is_read_as_monitoring_rabbitmq(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "wren"):
        from_file = load_config({"lithops": {"rabbitmq_monitor": True}}, read_files=False)
    assert from_file.wren["monitoring"] == "rabbitmq"
    assert "write that instead" in caplog.text
    from_kwarg = load_config(overrides={"rabbitmq_monitor": True}, read_files=False)
    assert from_kwarg.wren["monitoring"] == "rabbitmq"


def test_missing_or_bad_url_is_a_config_error() -> None:
    with pytest.raises(wren.ConfigError, match="set `amqp_url` in the `rabbitmq:`"):
        _plan(wren={"monitoring": "rabbitmq"})
    with pytest.raises(wren.ConfigError, match=r"expected amqp://user:password@host"):
        _plan(wren={"monitoring": "rabbitmq"}, rabbitmq={"amqp_url": "http://x:y@h/"})
    with pytest.raises(wren.ConfigError, match="Did you mean 'amqp_url'"):
        _plan(wren={"monitoring": "rabbitmq"}, rabbitmq={"amqp_uri": URL})
    with pytest.raises(wren.ConfigError, match="allowed values: 'storage', 'rabbitmq'"):
        _plan(wren={"monitoring": "redis"})


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url(URL) == "amqp://wren:***@broker.example:5672/jobs"
    assert mask_url("amqp://broker.example/") == "amqp://broker.example/"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_broker_fails_the_executor_at_creation(tmp_path: Path) -> None:
    threads = set(threading.enumerate())
    url = f"amqp://guest:hidden@127.0.0.1:{_closed_port()}/%2F"
    with pytest.raises(wren.MonitoringError, match="cannot reach the RabbitMQ broker") as err:
        wren.FunctionExecutor(monitoring="rabbitmq", storage_dir=str(tmp_path),
                              config={"rabbitmq": {"amqp_url": url}})
    assert "hidden" not in str(err.value) and "guest:***@127.0.0.1" in str(err.value)
    assert "Connection refused" in str(err.value)
    assert not [t for t in set(threading.enumerate()) - threads if t.name.startswith("wren")]

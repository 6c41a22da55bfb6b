"""Unit tests of wren-backend-azure's pure parts: messages, names, consumer settings, the
chunk reader, and the public surface."""

from __future__ import annotations

import io
import json
import re

import pytest
import wren
import wren_backend_azure
from wren import TamperedDataError
from wren.ports import WorkerStorage
from wren.protocol.invocation import Invocation, open_sealed_task, sealed_task
from wren.protocol.signing import new_key
from wren.protocol.task import Task
from wren.streams import ChunkRaw
from wren.testing import TEST_KEY
from wren_backend_azure import ConsumerSettings, naming
from wren_backend_azure.messages import (
    MAX_MESSAGE_BYTES,
    BlobRef,
    decode,
    ref_message,
    task_message,
    visibility_for,
)


def _task(**changes: object) -> Task:
    fields = dict(job_key="ex-0/M000", task_id="t00003", func_key="wren.funcs/abc.fn",
                  call_indices=range(10, 14), data_range=(0, 5), storage_backend="azure_storage",
                  storage_config={"storage_bucket": "b"}, bucket="b", inline_data=b"\x00pick",
                  timeout=10.0)
    fields.update(changes)
    return Task(**fields)  # type: ignore[arg-type]


def test_task_message_round_trip() -> None:
    invocation = Invocation(_task(), TEST_KEY)
    text = task_message(invocation)
    assert text is not None and text.isascii()
    message = decode(text)
    assert message.kind == "task" and message.invocation == invocation


def test_task_over_the_limit_needs_a_reference_and_travels_sealed() -> None:
    task = _task(extra_env={"BIG": "x" * MAX_MESSAGE_BYTES})
    assert task_message(Invocation(task, TEST_KEY)) is None
    ref = BlobRef.for_task(task)
    assert ref.key == "wren.jobs/ex-0/M000/tasks/t00003.json"
    message = decode(ref_message("task", ref, TEST_KEY))
    assert message.ref == ref and message.invocation is None and message.key == TEST_KEY
    stored = sealed_task(task, TEST_KEY, ref.key)
    assert open_sealed_task(stored, TEST_KEY, ref.key) == task
    forged = sealed_task(task.with_changes(func_key="wren.funcs/evil.fn"), new_key(), ref.key)
    with pytest.raises(TamperedDataError):
        open_sealed_task(forged, TEST_KEY, ref.key)
    with pytest.raises(ValueError, match="without the executor key"):
        decode(ref_message("task", ref))


@pytest.mark.parametrize("text", ["not json", "[]", '{"wren": 99, "kind": "task"}',
                                  '{"wren": 1, "kind": "launch"}', '{"wren": 1, "kind": "task"}'])
def test_foreign_messages_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        decode(text)


def test_visibility_covers_every_call_plus_margin_and_is_capped() -> None:
    assert visibility_for(_task(), 30) == 4 * 10 + 30
    assert visibility_for(_task(timeout=10**7), 30) == 7 * 24 * 3600


def test_app_names_are_valid_container_app_and_queue_names() -> None:
    names = {naming.app_name(image, memory) for image in ("a/b:1", "A/B:2", "x" * 300)
             for memory in (512, 1024)}
    assert len(names) == 6
    assert all(re.fullmatch(r"[a-z][a-z0-9-]{1,30}[a-z0-9]", n) and "--" not in n
               for n in names)


def test_memory_maps_to_container_apps_sizes() -> None:
    assert (naming.cpu_for(512), naming.memory_text(512)) == (0.25, "0.5Gi")
    assert (naming.cpu_for(4096), naming.memory_text(4096)) == (2.0, "4Gi")
    for bad in (256, 700, 8704):
        with pytest.raises(wren.ConfigError, match="multiple of 512"):
            naming.check_memory(bad)


def test_default_runtime_follows_python_and_registry() -> None:
    assert re.fullmatch(r"wren/wren-azure-v3\d+:" + re.escape(wren.__version__),
                        naming.runtime_name({}, "default"))
    assert naming.runtime_name({"docker_server": "r.azurecr.io", "docker_user": "me"}
                               ).startswith("r.azurecr.io/me/wren-azure-v")
    assert naming.runtime_name({"runtime": "mine:1"}) == "mine:1"


def test_consumer_settings_travel_through_the_environment() -> None:
    storage = {"connection_string": "AccountName=a;AccountKey=k;", "storage_bucket": "b"}
    settings = ConsumerSettings.for_runtime(
        {"max_dequeue_count": 4, "visibility_margin": 7.0, "worker_processes": 2},
        WorkerStorage("azure_storage", storage, {"storage_bucket": "b"}), "q1", "img:1", 90)
    assert ConsumerSettings.from_env(settings.environ()) == settings
    assert "AccountKey" not in json.dumps(settings.plain_env())
    with pytest.raises(RuntimeError, match="WREN_AZURE_QUEUE"):
        ConsumerSettings.from_env({})


def test_chunk_reader_reads_across_chunks() -> None:
    chunks = [b"abc", b"", b"defg", b"h"]
    reader = io.BufferedReader(ChunkRaw(iter(chunks)), buffer_size=2)
    assert reader.read(2) == b"ab"
    assert reader.read(4) == b"cdef"
    assert reader.read() == b"gh"
    assert reader.read() == b""


def test_public_surface_is_sorted_and_importable() -> None:
    names = wren_backend_azure.__all__
    assert names == sorted(names)
    assert all(hasattr(wren_backend_azure, name) for name in names)


def test_the_endpoint_suffix_names_a_sovereign_cloud() -> None:
    from wren_backend_azure.clients import connection_string, queue_client

    section = {"storage_account_name": "acct", "storage_account_key": "a2V5"}
    assert connection_string(section).endswith(";EndpointSuffix=core.windows.net")
    china = {**section, "endpoint_suffix": "core.chinacloudapi.cn"}
    assert connection_string(china).endswith(";EndpointSuffix=core.chinacloudapi.cn")
    queue = queue_client(china, "q")
    assert queue.url == "https://acct.queue.core.chinacloudapi.cn/q"
    queue.close()


def test_app_spec_builds_on_the_installed_sdk_with_grace_and_identity() -> None:
    from wren_backend_azure.app_spec import Registry, container_app

    settings = ConsumerSettings(queue="q", queue_connection="UseDevelopmentStorage=true",
                                storage_backend="azure_storage", storage_config={},
                                runtime="img", runtime_timeout=60, max_dequeue_count=5,
                                visibility_margin=30, processes=1, message_lease=45,
                                grace_period=120)
    app = container_app(settings, memory=1024, region="westeurope", environment_id="/e",
                        max_workers=3, tags={},
                        registry=Registry(server="r.azurecr.io", identity="system"))
    body = app.serialize() if hasattr(app, "serialize") else app.as_dict()
    template = body["properties"]["template"]
    assert template["terminationGracePeriodSeconds"] == 120
    assert body["properties"]["configuration"]["registries"] == [
        {"server": "r.azurecr.io", "identity": "system"}]
    assert body["identity"]["type"] == "SystemAssigned"

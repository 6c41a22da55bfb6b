"""Lithops' IBM sections as wren reads them: every key of Lithops' compute_config/ibm_cf.md,
openwhisk.md and storage_config/ibm_cos.md tables, beside the wren key that holds it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from wren import ConfigError
from wren.config import load_config

IBM = {"iam_api_key": "k", "region": "us-south", "resource_group_id": "rg"}

#: (section, Lithops key, a value) for each documented key wren reads under the same name.
HONOURED = [
    ("ibm_cf", "namespace", "ns"), ("ibm_cf", "namespace_id", "id"),
    ("ibm_cf", "region", "eu-de"), ("ibm_cf", "endpoint", "https://eu-de.functions.x"),
    ("ibm_cf", "max_workers", 10), ("ibm_cf", "worker_processes", 2),
    ("ibm_cf", "runtime", "me/rt:1"), ("ibm_cf", "runtime_memory", 512),
    ("ibm_cf", "runtime_timeout", 300), ("ibm_cf", "invoke_pool_threads", 8),
    ("ibm_cf", "remote_invoker", True),
    ("openwhisk", "endpoint", "https://ow"), ("openwhisk", "namespace", "_"),
    ("openwhisk", "api_key", "u:k"), ("openwhisk", "insecure", True),
    ("openwhisk", "max_workers", 10), ("openwhisk", "worker_processes", 2),
    ("openwhisk", "runtime", "me/rt:1"), ("openwhisk", "runtime_memory", 512),
    ("openwhisk", "runtime_timeout", 300), ("openwhisk", "invoke_pool_threads", 8),
    ("ibm_cos", "region", "eu-de"), ("ibm_cos", "api_key", "k"),
    ("ibm_cos", "storage_bucket", "b"), ("ibm_cos", "service_instance_id", "crn"),
    ("ibm_cos", "access_key_id", "a"), ("ibm_cos", "secret_access_key", "s"),
    ("ibm_cos", "endpoint", "https://s3.x"), ("ibm_cos", "private_endpoint", "https://s3.p"),
]


@pytest.mark.parametrize(("section", "key", "value"), HONOURED)
def test_documented_keys_are_honoured(section: str, key: str, value: Any) -> None:
    backend = "openwhisk" if section == "openwhisk" else "ibm_cf"
    config = load_config({"ibm": IBM, section: {key: value}}, backend=backend,
                         storage="ibm_cos", read_files=False)
    held = config.storage if section == "ibm_cos" else config.compute
    assert held[key] == value


@pytest.mark.parametrize("key", sorted(IBM))
def test_the_ibm_section_keys_are_known(key: str) -> None:
    config = load_config({"ibm": {key: IBM[key]}}, read_files=False)  # localhost chosen
    assert config.sections["ibm"] == {key: IBM[key]}


def test_a_typo_in_the_ibm_section_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown key 'iam_apikey' in section 'ibm'.*Did you "
                                          "mean 'iam_api_key'"):
        load_config({"ibm": {"iam_apikey": "k"}}, read_files=False)


@pytest.mark.parametrize(("section", "key", "value", "said"), [
    ("ibm_cf", "runtime_include_function", True, "uploads each function once"),
    ("openwhisk", "runtime_include_function", True, "uploads each function once"),
    ("ibm_cf", "docker_server", "us.icr.io", "registry in the image name of `runtime`"),
])
def test_keys_without_effect_are_named(section: str, key: str, value: Any, said: str,
                                       caplog: pytest.LogCaptureFixture) -> None:
    backend = "openwhisk" if section == "openwhisk" else "ibm_cf"
    load_config({section: {key: value}}, backend=backend, storage="ibm_cos", read_files=False)
    [message] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert message.startswith(f"Lithops key {key!r} in section {section!r}")
    assert said in message


def test_docker_server_of_docker_hub_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    load_config({"ibm_cf": {"docker_server": "docker.io"}}, backend="ibm_cf",
                storage="ibm_cos", read_files=False)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

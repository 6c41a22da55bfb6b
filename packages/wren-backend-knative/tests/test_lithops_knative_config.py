"""Lithops' `knative:` keys (its compute_config/knative.md table) as wren reads them."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from wren import ConfigError
from wren.config.loader import load_config


@pytest.mark.parametrize(("key", "value"), [
    ("kubecfg_path", "~/.kube/other"), ("networking_layer", "istio"),
    ("ingress_endpoint", "http://1.2.3.4"), ("docker_server", "quay.io"),
    ("docker_user", "me"), ("docker_password", "t"), ("max_workers", 10),
    ("worker_processes", 2), ("runtime", "me/rt:1"), ("runtime_cpu", 1.0),
    ("runtime_memory", 512), ("runtime_timeout", 300), ("invoke_pool_threads", 8),
])
def test_documented_keys_are_honoured(key: str, value: Any) -> None:
    config = load_config({"knative": {key: value}}, backend="knative", read_files=False)
    assert config.compute[key] == value


@pytest.mark.parametrize("key", ["git_url", "git_rev"])
def test_image_build_keys_have_no_effect_and_say_so(key: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    load_config({"knative": {key: "x"}}, backend="knative", read_files=False)
    [message] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"Lithops key {key!r} in section 'knative'" in message
    assert "wren runtime build" in message


def test_docker_namespace_is_not_offered_namespace() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"knative": {"docker_namespace": "me"}}, backend="knative",
                    read_files=False)
    assert "unknown key 'docker_namespace' in section 'knative'" in str(caught.value)
    assert "Did you mean" not in str(caught.value)

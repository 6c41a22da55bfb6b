"""Lithops' Azure sections (its compute_config/azure_containers.md and
storage_config/azure_blob.md tables: `azure`, `azure_storage`, `azure_containers`) as wren
reads them."""

from __future__ import annotations

from typing import Any

import pytest
from wren import ConfigError
from wren.config import load_config

STORAGE = {"storage_account_name": "acct", "storage_account_key": "key"}


def azure(config: dict[str, Any]) -> Any:
    return load_config({"azure_storage": STORAGE, **config}, backend="azure_containers",
                       storage="azure_storage", read_files=False)


def test_the_azure_section_feeds_azure_containers() -> None:
    config = azure({"azure": {"resource_group": "rg", "region": "westeurope",
                              "subscription_id": "sub"},
                    "azure_containers": {"region": "northeurope"}})
    assert config.compute["resource_group"] == "rg"
    assert config.compute["subscription_id"] == "sub"
    assert config.compute["region"] == "northeurope"  # its own value wins


@pytest.mark.parametrize("section", ["azure", "azure_containers"])
def test_location_is_region(section: str) -> None:
    assert azure({section: {"location": "westus2"}}).compute["region"] == "westus2"


def test_own_location_wins_over_the_azure_section() -> None:
    config = azure({"azure": {"region": "westeurope"},
                    "azure_containers": {"location": "westus2"}})
    assert config.compute["region"] == "westus2"


def test_region_wins_over_location() -> None:
    config = azure({"azure_containers": {"location": "westus2", "region": "westeurope"}})
    assert config.compute["region"] == "westeurope"


@pytest.mark.parametrize(("key", "value"), [
    ("resource_group", "rg"), ("region", "westeurope"), ("environment", "lithops"),
    ("docker_server", "index.docker.io"), ("docker_user", "me"), ("docker_password", "t"),
    ("max_workers", 30), ("worker_processes", 2), ("runtime", "me/rt:1"),
    ("runtime_memory", 1024), ("runtime_timeout", 300), ("invoke_pool_threads", 8),
])
def test_documented_keys_are_honoured(key: str, value: Any) -> None:
    assert azure({"azure_containers": {key: value}}).compute[key] == value


def test_storage_keys_are_honoured() -> None:
    config = azure({"azure_storage": {**STORAGE, "storage_bucket": "data"}})
    assert (config.storage["storage_account_name"], config.storage["storage_bucket"]) == \
        ("acct", "data")


def test_trigger_pub_sub_is_what_wren_does_another_is_refused() -> None:
    azure({"azure_containers": {"trigger": "pub/sub"}})
    with pytest.raises(ConfigError, match="Lithops key 'trigger' in section 'azure_containers' "
                                          r"\('http'\) is not supported by wren: .*storage queue"):
        azure({"azure_containers": {"trigger": "http"}})


def test_environment_id_is_refused_with_the_replacement() -> None:
    with pytest.raises(ConfigError, match="'environment_id'.*is not supported by wren: name the "
                                          "Container Apps environment with `environment`"):
        azure({"azure_containers": {"environment_id": "/subscriptions/s/x/lithops"}})

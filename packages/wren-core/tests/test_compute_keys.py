"""The compute keys every backend shares are declared once, by the `ComputeBackend` port:
adapters extend its schema, refine defaults and wording, and cannot change a type."""

from __future__ import annotations

import pytest
from wren import ConfigError, plugins
from wren.config import ConfigKey, ConfigSchema
from wren.ports import ComputeBackend
from wren.ports.compute_config import COMPUTE_KEYS, COMPUTE_SCHEMA

COMMON = {"runtime", "runtime_memory", "runtime_timeout", "max_workers", "worker_processes",
          "runtime_platform"}


def test_the_port_declares_the_common_keys() -> None:
    assert {key.name for key in COMPUTE_KEYS} == COMMON
    assert ComputeBackend.config_schema is COMPUTE_SCHEMA


def test_an_extended_schema_validates_the_common_keys_once_declared() -> None:
    schema = COMPUTE_SCHEMA.extend("acme", (ConfigKey("region", str, "eu"),),
                                   runtime_memory={"default": 256, "minimum": 128})
    assert schema.key_names() == sorted(COMMON | {"region"})
    values = schema.validate({"max_workers": 3})
    assert values["runtime_memory"] == 256 and values["max_workers"] == 3
    assert values["region"] == "eu" and values["runtime"] is None
    with pytest.raises(ConfigError, match="'runtime_memory' in section 'acme' is 64; it must "
                                          "be at least 128"):
        schema.validate({"runtime_memory": 64})
    with pytest.raises(ConfigError, match="'max_workers' in section 'acme' must be an integer"):
        schema.validate({"max_workers": "many"})
    with pytest.raises(ConfigError, match="unknown key 'max_worker' in section 'acme'.*"
                                          "Did you mean 'max_workers'"):
        schema.validate({"max_worker": 2})
    # refining one schema leaves the port's untouched
    assert COMPUTE_SCHEMA.get("runtime_memory") == ConfigKey(
        "runtime_memory", int, None, "memory of one worker, in MB", minimum=1)


@pytest.mark.parametrize(("keys", "refine", "message"), [
    ((ConfigKey("max_workers", int, 5),), {}, "'max_workers' is declared by the 'compute' "
                                              "schema; refine it instead"),
    ((), {"runtime_memory": {"type": str}}, "cannot change the type of key 'runtime_memory'"),
    ((), {"max_worker": {"default": 3}}, "cannot refine key 'max_worker': the 'compute' "
                                         "schema declares no such key"),
])
def test_an_adapter_cannot_redeclare_or_retype_a_common_key(
        keys: tuple[ConfigKey, ...], refine: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        COMPUTE_SCHEMA.extend("acme", keys, **refine)


def test_extend_keeps_inherited_sections() -> None:
    schema = COMPUTE_SCHEMA.extend("acme", inherit=("cloud",))
    assert schema.with_inherited({"cloud": {"max_workers": 7, "other": 1}}) == {"max_workers": 7}
    assert isinstance(schema, ConfigSchema)


@pytest.mark.parametrize("name", plugins.installed(plugins.COMPUTE_GROUP))
def test_every_installed_compute_backend_takes_the_common_keys_from_the_port(name: str) -> None:
    schema = plugins.compute_backend_class(name).config_schema
    for common in COMPUTE_KEYS:
        key = schema.get(common.name)
        assert key is not None, f"{name} does not accept {common.name!r}"
        assert (key.type, key.nullable, key.secret) == (common.type, common.nullable,
                                                        common.secret)

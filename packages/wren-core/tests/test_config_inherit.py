"""Shared config sections: a schema that inherits from e.g. Lithops' `ibm:` section takes the
keys it declares from there, and its own values win."""

from __future__ import annotations

import pytest
from wren import ConfigError
from wren.config import ConfigKey, ConfigSchema

SCHEMA = ConfigSchema("cloud_compute", (
    ConfigKey("api_key", str, None, secret=True),
    ConfigKey("region", str, "us-south"),
    ConfigKey("memory", int, 256),
), inherit=("cloud",))


def test_declared_keys_come_from_the_shared_section() -> None:
    sections = {"cloud": {"api_key": "k", "region": "eu-de", "resource_group": "ignored"},
                "cloud_compute": {"memory": 512}}
    values = SCHEMA.validate(SCHEMA.with_inherited(sections))
    assert values == {"api_key": "k", "region": "eu-de", "memory": 512}


def test_the_section_own_values_win() -> None:
    sections = {"cloud": {"region": "eu-de"}, "cloud_compute": {"region": "jp-tok"}}
    assert SCHEMA.validate(SCHEMA.with_inherited(sections))["region"] == "jp-tok"


def test_no_shared_section_is_fine_and_bad_values_are_still_rejected() -> None:
    assert SCHEMA.with_inherited({}) == {}
    with pytest.raises(ConfigError, match="'memory' in section 'cloud_compute'"):
        SCHEMA.validate(SCHEMA.with_inherited({"cloud": {"memory": "big"}}))


def test_merged_schemas_keep_what_they_inherit() -> None:
    other = ConfigSchema("cloud_compute", (ConfigKey("bucket", str, None),), inherit=("x",))
    merged = SCHEMA.merged_with(other)
    assert merged.inherit == ("cloud", "x")
    assert {k.name for k in merged.keys} == {"api_key", "region", "memory", "bucket"}

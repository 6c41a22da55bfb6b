"""The configuration reference is generated from the schemas: every section the loader
reads, every key with its type, default, bounds or choices, and whether it is secret."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from wren import plugins
from wren._errors import ConfigError
from wren.config import ConfigKey, reference
from wren.config.lithops_keys import refused, renamed, retired
from wren.config.sections import known_sections
from wren.ports.compute_config import COMPUTE_SCHEMA

FAKE = COMPUTE_SCHEMA.extend(
    "fakecloud",
    (ConfigKey("api_key", str, None, "the account's key | with a pipe", secret=True),
     ConfigKey("tier", str, "small", "size of the machines", choices=("small", "large")),
     ConfigKey("ratio", float, 0.5, "share of the quota", minimum=0, maximum=1,
               limit_source="FakeCloud quotas page"),
     ConfigKey("tags", list, ["a", "b"], "labels\nof every job", nullable=True),
     ConfigKey("endpoint", str, "https://x", "default: https://<region>.x [:port][/db] "
               "or `<region>`")),
    inherit=("fake",),
    lithops=(renamed("old_tier", "tier"), retired("legacy", "has no effect; remove it"),
             refused("bad", "use `tier`")),
    runtime_memory={"maximum": 4096},
)


class FakeCompute:
    config_schema = FAKE


@pytest.fixture
def fake_backend() -> Iterator[None]:
    plugins.prime(plugins.COMPUTE_GROUP, "fakecloud", FakeCompute)
    plugins.clear_cache()
    yield
    del plugins._primed[(plugins.COMPUTE_GROUP, "fakecloud")]
    plugins.clear_cache()


def _rows(markdown: str) -> dict[str, list[str]]:
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_section_the_loader_reads_has_a_reference() -> None:
    schemas = reference.section_schemas()
    assert next(iter(schemas)) == "wren"
    aliases = reference.section_aliases()
    assert aliases.get("redis") == "multiprocessing"
    assert {"localhost", "rabbitmq", "multiprocessing"} <= set(schemas)
    # Every known section but Lithops' spelling of `wren:` is one table or an alias of one.
    assert set(known_sections()) - {"lithops"} <= set(schemas) | set(aliases)
    # The localhost compute and storage backends share one section: both halves are there.
    localhost = reference.section_reference("localhost")
    assert "`worker_processes`" in localhost and "`storage_dir`" in localhost


def test_a_section_table_says_everything_of_every_key(fake_backend: None) -> None:
    text = reference.section_reference("fakecloud")
    rows = _rows(text)
    assert list(rows)[:len(COMPUTE_SCHEMA.keys)] == [k.name for k in COMPUTE_SCHEMA.keys]
    assert set(FAKE.key_names()) <= set(rows)
    assert rows["api_key"] == ["`api_key`", "string or null", "`null`", "", "yes",
                               "the account's key \\| with a pipe"]
    assert rows["tier"][1:5] == ["string", "`small`", "one of `small`, `large`", "no"]
    assert rows["ratio"][1:4] == ["number", "`0.5`", "between 0 and 1 (FakeCloud quotas page)"]
    assert rows["tags"][1:3] == ["list or null", "`[a, b]`"]
    assert rows["tags"][5] == "labels of every job"
    # Read as written: no HTML tag, no link, outside code spans; code spans untouched.
    assert rows["endpoint"][5] == ("default: https://&lt;region>.x \\[:port\\]\\[/db\\] or "
                                   "`<region>`")
    memory = FAKE.get("runtime_memory")
    assert memory is not None and memory.bounds_text() in rows["runtime_memory"][3]
    assert "shared `fake:` section" in text
    assert rows["old_tier"][1] == "`tier`"
    assert rows["legacy"][1] == "ignored, with one notice"
    assert rows["bad"][1:] == ["refused (an error)", "use `tier`"]
    # In each table, every row has as many cells as its header: no stray pipe or line break.
    for table in text.split("\n\n"):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        cells = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(cells) <= 1, table


def test_the_whole_reference_has_a_heading_per_section(fake_backend: None) -> None:
    text = reference.reference(heading_level=3)
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert headings == [f"### `{name}:`" for name in reference.section_schemas()]
    assert "### `fakecloud:`" in headings


def test_an_alias_names_the_section_it_is_read_as() -> None:
    text = reference.section_reference("redis")
    assert "`key_prefix`" in text and "read as `multiprocessing:`" in text


def test_an_unknown_section_is_an_error_that_lists_the_known() -> None:
    with pytest.raises(ConfigError, match=r"no config section 'nope'.*localhost"):
        reference.section_reference("nope")


def test_a_shared_section_without_a_schema_object_is_left_out() -> None:
    plugins.prime(plugins.CONFIG_SECTION_GROUP, "notaschema", object())
    try:
        assert "notaschema" not in reference.section_schemas()
    finally:
        del plugins._primed[(plugins.CONFIG_SECTION_GROUP, "notaschema")]
        plugins.clear_cache()


def test_type_and_allowed_words() -> None:
    key = ConfigKey("n", int, 3, minimum=1)
    assert (reference.type_text(key), reference.allowed_text(key)) == ("integer", "at least 1")
    assert reference.allowed_text(ConfigKey("m", int, 3, maximum=9)) == "at most 9"
    assert reference.allowed_text(ConfigKey("s", str, "x")) == ""
    assert reference.type_text(ConfigKey("b", bool, None)) == "boolean or null"

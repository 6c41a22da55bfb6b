"""The docs build's hook puts the generated config reference where a page asks for it, and
refuses a section that no installed package reads (docs/_hooks/config_reference.py; the
build itself runs in tests/run-all)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from wren._errors import ConfigError
from wren.config import reference

from tests.docs.samples import REPO


def _hook() -> ModuleType:
    path = REPO / "docs" / "_hooks" / "config_reference.py"
    spec = importlib.util.spec_from_file_location("wren_docs_config_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_marker_line_becomes_its_section_table() -> None:
    page = "# localhost\n\ntext\n<!-- wren:config-reference localhost -->\n\nmore\n"
    out = _hook().expand(page, "backends/localhost.md")
    assert out == page.replace("<!-- wren:config-reference localhost -->",
                               reference.section_reference("localhost"))
    assert "| `storage_dir` |" in out and "wren:config-reference" not in out


def test_all_gives_every_section_and_other_comments_stay() -> None:
    page = "<!--  wren:config-reference   all  -->\n<!-- wren:config-reference -->\n"
    out = _hook().expand(page, "reference/configuration.md")
    assert out.startswith(reference.reference(heading_level=2))
    assert out.endswith("<!-- wren:config-reference -->\n")  # no section: not a marker
    # Only a line of its own is a marker; a mention inside a sentence is left alone.
    inline = "write `<!-- wren:config-reference knative -->` on its own line\n"
    assert _hook().expand(inline, "x.md") == inline


def test_an_unknown_section_fails_naming_the_page() -> None:
    with pytest.raises(ConfigError, match=r"^backends/k8s\.md: no config section 'k9s'"):
        _hook().expand("<!-- wren:config-reference k9s -->\n", "backends/k8s.md")

"""The metadata-folder reader finds what `importlib.metadata` finds, far cheaper."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest
from wren import _entry_points, plugins

GROUPS = (plugins.COMPUTE_GROUP, plugins.STORAGE_GROUP, plugins.SERIALIZER_GROUP,
          plugins.PARTITIONER_GROUP, plugins.CONFIG_SECTION_GROUP, "console_scripts")


def _points(found: object) -> dict[str, tuple[str, str | None]]:
    return {ep.name: (ep.value, ep.dist.name if ep.dist else None)  # type: ignore[attr-defined]
            for ep in found}  # type: ignore[attr-defined]


@pytest.mark.parametrize("group", GROUPS)
def test_the_same_entry_points_as_importlib_metadata(group: str) -> None:
    expected = _points(importlib.metadata.entry_points(group=group))
    assert _points(_entry_points.entry_points(group)) == expected


def test_the_same_top_level_names_as_packages_distributions() -> None:
    assert _entry_points.distribution_modules() == frozenset(
        importlib.metadata.packages_distributions())


def _install(root: Path, version: str, value: str) -> None:
    info = root / f"acme_adapters-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: acme-adapters\n"
                                   f"Version: {version}\n\n")
    (info / "entry_points.txt").write_text(f"[other]\nx = a:b\n\n[{plugins.COMPUTE_GROUP}]\n"
                                           f"acme = {value}\n")
    (info / "RECORD").write_text("acme_wren/__init__.py,sha256=x,1\nacme_tool.py,,\n"
                                 f"acme_adapters-{version}.dist-info/RECORD,,\n")


def test_a_distribution_on_sys_path_first_wins(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path / "first", "2.0", "acme_wren.compute:New")
    _install(tmp_path / "second", "1.0", "acme_wren.compute:Old")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "first"), str(tmp_path / "second"),
                                      *sys.path])
    _entry_points.clear_cache()
    try:
        [acme] = [ep for ep in _entry_points.entry_points(plugins.COMPUTE_GROUP)
                  if ep.name == "acme"]
        assert (acme.value, acme.module, acme.attr) == ("acme_wren.compute:New",
                                                        "acme_wren.compute", "New")
        assert plugins.provider(acme) == "acme-adapters"
        assert {"acme_wren", "acme_tool"} <= _entry_points.distribution_modules()
        with pytest.raises(ImportError):
            acme.load()
    finally:
        monkeypatch.undo()
        _entry_points.clear_cache()


class _ListingFinder:
    """A meta-path finder that lists distributions of its own (as some installers add)."""

    def find_spec(self, *args: object) -> None:
        return None

    def find_distributions(self, *args: object) -> list[object]:
        return []


def test_a_finder_that_lists_distributions_gets_importlib_metadata(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, _ListingFinder()])
    found = _entry_points.entry_points(plugins.COMPUTE_GROUP)
    assert all(isinstance(ep, importlib.metadata.EntryPoint) for ep in found)
    assert "localhost" in {ep.name for ep in found}

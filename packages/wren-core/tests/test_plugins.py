"""Adapter discovery through entry points: lazy, cached, and clear about what is missing."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest
from wren import BackendNotFoundError, plugins


def test_installed_lists_the_localhost_adapters() -> None:
    assert "localhost" in plugins.installed(plugins.COMPUTE_GROUP)
    assert "localhost" in plugins.installed(plugins.STORAGE_GROUP)
    assert "cloudpickle" in plugins.installed(plugins.SERIALIZER_GROUP)


def test_load_is_cached() -> None:
    first = plugins.compute_backend_class("localhost")
    assert plugins.compute_backend_class("localhost") is first


def test_an_unknown_name_gets_the_naming_convention_and_the_installed_names() -> None:
    # Core keeps no table of adapters: every unknown name gets wren's naming convention.
    assert plugins.distribution_hint("foo_bar") == "wren-backend-foo-bar"
    assert plugins.distribution_hint("ibm_cos") == "wren-backend-ibm-cos"
    with pytest.raises(BackendNotFoundError,
                       match="Installed storage backends: .*localhost.*"
                             "pip install wren-backend-no-such-storage"):
        plugins.storage_backend_class("no_such_storage")


def test_the_provider_of_an_installed_name_comes_from_its_metadata() -> None:
    localhost = plugins._scan(plugins.COMPUTE_GROUP)["localhost"]
    assert plugins.provider(localhost) == "wren-backend-local"
    assert plugins.provider(EntryPoint("x", "m:C", plugins.COMPUTE_GROUP)) is None


class _Dist:
    name = "acme-wren-adapters"  # not wren's naming convention: only metadata can say it


class _BrokenEntryPoint:
    """An installed entry point whose module cannot be imported."""

    name = "acme"
    value = "acme_wren.compute:AcmeCompute"
    dist = _Dist()

    def load(self) -> Any:
        raise ImportError("No module named 'acme_wren'")


def test_a_broken_adapter_names_the_distribution_its_metadata_gives(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "_scan", lambda group: {"acme": _BrokenEntryPoint()})
    plugins.load.cache_clear()
    try:
        with pytest.raises(BackendNotFoundError,
                           match=r"'acme' is installed \(acme_wren.compute:AcmeCompute\) but "
                                 r"failed to import: No module named 'acme_wren'\. Reinstall it "
                                 r"with: pip install --force-reinstall acme-wren-adapters$"):
            plugins.compute_backend_class("acme")
    finally:
        plugins.load.cache_clear()


def test_a_vendor_entry_point_just_works(monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = EntryPoint("foo", "wren_backend_local.storage:LocalhostStorage",
                        plugins.STORAGE_GROUP)
    scanned = dict(plugins._scan(plugins.STORAGE_GROUP))
    plugins.clear_cache()
    monkeypatch.setattr(plugins, "_scan", lambda group: {**scanned, "foo": vendor}
                        if group == plugins.STORAGE_GROUP else {})
    plugins.load.cache_clear()
    try:
        assert plugins.storage_backend_class("foo").__name__ == "LocalhostStorage"
        assert "foo" in plugins.installed(plugins.STORAGE_GROUP)
    finally:
        plugins.load.cache_clear()


def test_a_broken_adapter_says_it_failed_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint("broken", "wren_backend_that_does_not_exist:Thing",
                        plugins.COMPUTE_GROUP)
    monkeypatch.setattr(plugins, "_scan", lambda group: {"broken": broken})
    plugins.load.cache_clear()
    try:
        with pytest.raises(BackendNotFoundError, match="installed .* but failed to import"):
            plugins.compute_backend_class("broken")
    finally:
        plugins.load.cache_clear()

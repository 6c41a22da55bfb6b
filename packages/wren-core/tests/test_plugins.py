"""Adapter discovery through entry points: lazy, cached, and clear about what is missing."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from wren import BackendNotFoundError, plugins


def test_installed_lists_the_localhost_adapters() -> None:
    assert "localhost" in plugins.installed(plugins.COMPUTE_GROUP)
    assert "localhost" in plugins.installed(plugins.STORAGE_GROUP)
    assert "cloudpickle" in plugins.installed(plugins.SERIALIZER_GROUP)


def test_load_is_cached() -> None:
    first = plugins.compute_backend_class("localhost")
    assert plugins.compute_backend_class("localhost") is first


def test_install_hints_name_the_distribution() -> None:
    assert plugins.distribution_hint("ibm_cos") == "wren-backend-ibmcf"
    assert plugins.distribution_hint("azure_containers") == "wren-backend-azure"
    assert plugins.distribution_hint("foo_bar") == "wren-backend-foo-bar"
    with pytest.raises(BackendNotFoundError, match="Installed storage backends: .*localhost"):
        plugins.storage_backend_class("no_such_storage")


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

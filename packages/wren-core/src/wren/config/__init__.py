"""Configuration: typed per-section schemas and the loader that merges files and overrides."""

from typing import TYPE_CHECKING, Any

from wren.config.schema import ConfigKey, ConfigSchema
from wren.config.wren_section import WREN_SECTION

if TYPE_CHECKING:
    from wren.config.loader import WrenConfig, config_files, load_config, read_config_files

__all__ = [
    "ConfigKey",
    "ConfigSchema",
    "WREN_SECTION",
    "WrenConfig",
    "config_files",
    "load_config",
    "read_config_files",
]


def __getattr__(name: str) -> Any:  # the loader is imported on first use
    if name in ("WrenConfig", "config_files", "load_config", "read_config_files"):
        from wren.config import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'wren.config' has no attribute {name!r}")

"""Configuration: typed per-section schemas and the loader that merges files and overrides."""

from wren.config.loader import WrenConfig, config_files, load_config, read_config_files
from wren.config.schema import ConfigKey, ConfigSchema
from wren.config.wren_section import WREN_SECTION

__all__ = [
    "ConfigKey",
    "ConfigSchema",
    "WREN_SECTION",
    "WrenConfig",
    "config_files",
    "load_config",
    "read_config_files",
]

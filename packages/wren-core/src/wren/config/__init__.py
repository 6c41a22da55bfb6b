"""Configuration: typed per-section schemas and the loader that merges files and overrides."""

from wren.config.loader import WrenConfig, config_files, load_config, read_config_files
from wren.config.schema import ConfigKey, ConfigSchema
from wren.config.wren_section import WREN_SECTION

__all__ = [
    "WREN_SECTION",
    "ConfigKey",
    "ConfigSchema",
    "WrenConfig",
    "config_files",
    "load_config",
    "read_config_files",
]

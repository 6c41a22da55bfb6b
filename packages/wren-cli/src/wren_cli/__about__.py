"""Version of the wren-cli distribution."""

__version__ = "0.1.0"

"""Version of the wren-core distribution, read by hatch at build time and by wren at run time."""

__version__ = "0.1.0"

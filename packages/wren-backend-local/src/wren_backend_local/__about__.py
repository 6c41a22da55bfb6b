"""Version of the wren-backend-local distribution."""

__version__ = "0.1.0"

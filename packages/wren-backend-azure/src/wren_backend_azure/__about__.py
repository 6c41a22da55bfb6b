"""Version of the wren-backend-azure distribution."""

__version__ = "0.1.0"

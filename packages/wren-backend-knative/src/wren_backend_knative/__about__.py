"""Version of the wren-backend-knative distribution."""

__version__ = "0.1.0"

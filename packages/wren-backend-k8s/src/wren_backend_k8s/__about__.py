"""Version of the wren-backend-k8s distribution."""

__version__ = "0.1.0"

"""Version of the wren-backend-ibmcf distribution."""

__version__ = "0.1.0"

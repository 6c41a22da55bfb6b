"""The `wren` logger: silent by default (a library must not configure logging for the
application), with one readable stream handler once a `log_level` is asked for."""

from __future__ import annotations

import logging

_FORMAT = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"
_handler: logging.Handler | None = None


def configure_logging(level: str | None) -> None:
    """Set the `wren` logger's level and give it a stream handler (once)."""
    global _handler
    if not level:
        return
    logger = logging.getLogger("wren")
    logger.setLevel(level.upper())
    if _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(_handler)

"""The `wren:` section: settings of the executor itself, whatever the backends.

It mirrors the `lithops:` section of Lithops (`backend`, `storage`, `log_level`,
`data_cleaner`, `include_modules`, `exclude_modules`, `execution_timeout`, `monitoring`,
`monitoring_interval`, `chunksize`), so a Lithops config carries over as it is (a `lithops:`
section is read as `wren:`); `LITHOPS_KEYS` says how each other documented Lithops key is read.
"""

from __future__ import annotations

from typing import Any

from wren.config.lithops_keys import LithopsKey, renamed, retired
from wren.config.schema import ConfigKey, ConfigSchema

DEFAULT_BACKEND = "localhost"
DEFAULT_STORAGE = "localhost"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")



def _log_level(value: Any) -> Any:
    """Lithops writes levels in lower case (`info`); wren's choices are upper case."""
    return value.upper() if isinstance(value, str) else value


def _rabbitmq_monitor(value: Any) -> Any:
    return "rabbitmq" if value is True else value


_LOGGING = ("wren logs to the standard `wren` logger and leaves handlers, formats and files "
            "to the application: configure them with Python's `logging` module")

#: How the `wren:` section reads the documented keys of Lithops' `lithops:` section that it
#: does not declare by the same name.
LITHOPS_KEYS = (
    renamed("log_level", "log_level", _log_level),
    LithopsKey("rabbitmq_monitor", "true is read as `monitoring: rabbitmq`; write that instead",
               rename="monitoring", convert=_rabbitmq_monitor, harmless=(False,), notify=True),
    retired("mode", "wren picks the mode from `backend`; remove `mode`"),
    retired("data_limit", "wren has no size limit on call data (large data goes to storage "
                          "and is read by byte range); remove `data_limit`", harmless=(False,)),
    retired("customized_runtime", "wren uploads each function once, content-addressed, and "
                                  "never builds a runtime per function; remove it",
            harmless=(False,)),
    retired("log_format", _LOGGING),
    retired("log_stream", _LOGGING),
    retired("log_filename", _LOGGING),
    retired("telemetry", "wren sends no telemetry; remove it", harmless=(False,)),
    retired("telemetry_interval", "wren sends no telemetry; remove it"),
)

WREN_SECTION = ConfigSchema("wren", (
    ConfigKey("backend", str, DEFAULT_BACKEND, "compute backend that runs the functions"),
    ConfigKey("storage", str, DEFAULT_STORAGE, "storage backend for functions, data and results"),
    ConfigKey("log_level", str, None, "level of the `wren` logger; null = silent",
              choices=LOG_LEVELS, nullable=True),
    ConfigKey("data_cleaner", bool, True,
              "delete a job's temporary data once its results were read"),
    ConfigKey("execution_timeout", float, 1800.0,
              "seconds a single call may run before it is stopped", minimum=1),
    ConfigKey("include_modules", list, [],
              "user modules to ship with functions, whole (data files too); [] = the "
              "modules each function reaches, null = none",
              nullable=True),
    ConfigKey("exclude_modules", list, [], "user modules never to ship"),
    ConfigKey("monitoring", str, "storage",
              "how the client learns that calls finished: `storage` (polling, or the "
              "backend's own push) or `rabbitmq` (workers push to the broker in the "
              "`rabbitmq:` section)", choices=("storage", "rabbitmq")),
    ConfigKey("serializer", str, "cloudpickle", "serializer for functions, data and results"),
    ConfigKey("chunksize", int, None, "calls per worker task; null = chosen by the backend",
              minimum=1),
    ConfigKey("progress", bool, True, "show a progress bar while waiting in a terminal"),
    ConfigKey("monitoring_interval", float, None,
              "seconds between storage polls at most while waiting (with `monitoring: "
              "storage`); null = wren's adaptive pace (0.05 s rising to 2 s)", minimum=0.01,
              nullable=True),
    ConfigKey("retries", int, 0, "times `RetryingFunctionExecutor` resubmits a failed call",
              minimum=0),
), lithops=LITHOPS_KEYS)

"""The `wren:` section: settings of the executor itself, whatever the backends.

It mirrors the `lithops:` section of Lithops (`backend`, `storage`, `log_level`,
`data_cleaner`, `include_modules`, `exclude_modules`, `execution_timeout`, `monitoring`), so a
Lithops config carries over by renaming the section.
"""

from __future__ import annotations

from wren.config.schema import ConfigKey, ConfigSchema

DEFAULT_BACKEND = "localhost"
DEFAULT_STORAGE = "localhost"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: Keys Lithops accepted in `lithops:` that wren no longer needs; accepted with a warning.
RETIRED_KEYS = {
    "mode": "ignored, wren picks the mode from `backend`; remove `mode`",
    "rabbitmq_monitor": "true is read as `monitoring: rabbitmq`; write that instead",
}

WREN_SECTION = ConfigSchema("wren", (
    ConfigKey("backend", str, DEFAULT_BACKEND, "compute backend that runs the functions"),
    ConfigKey("storage", str, DEFAULT_STORAGE, "storage backend for functions, data and results"),
    ConfigKey("log_level", str, None, "level of the `wren` logger", choices=LOG_LEVELS),
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
    ConfigKey("retries", int, 0, "times `RetryingFunctionExecutor` resubmits a failed call",
              minimum=0),
))

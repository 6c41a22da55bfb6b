"""The config keys every compute backend accepts, declared once for the `ComputeBackend` port.

wren itself passes `runtime` and `runtime_memory` (`FunctionExecutor(runtime=...,
runtime_memory=...)`) and reads `max_workers` (`ComputeBackend.max_workers`), so every compute
backend must accept them with one type; `runtime_timeout` and `worker_processes` are the
Lithops keys every platform has a meaning for. An adapter builds its section's schema with
`COMPUTE_SCHEMA.extend(section, own_keys, runtime_memory={"default": 256, ...})`, refining
defaults, minimums and wording, never types.
"""

from __future__ import annotations

from wren.config.schema import ConfigKey, ConfigSchema

COMPUTE_KEYS = (
    ConfigKey("runtime", str, None,
              "runtime the calls run in (a container image name); default: the backend's "
              "runtime for this Python and wren version"),
    ConfigKey("runtime_memory", int, None, "memory of one worker, in MB", minimum=1),
    ConfigKey("runtime_timeout", int, None,
              "seconds the platform lets one invocation run", minimum=1),
    ConfigKey("max_workers", int, None,
              "workers running at once, at most (sets the default chunksize)", minimum=1),
    ConfigKey("worker_processes", int, None, "worker processes in one worker", minimum=1),
)

#: The port's schema: what every compute backend's section extends.
COMPUTE_SCHEMA = ConfigSchema("compute", COMPUTE_KEYS)

__all__ = ["COMPUTE_KEYS", "COMPUTE_SCHEMA"]

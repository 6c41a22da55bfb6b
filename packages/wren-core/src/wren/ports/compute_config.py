"""The config keys every compute backend accepts, declared once for the `ComputeBackend` port.

wren itself passes `runtime` and `runtime_memory` (`FunctionExecutor(runtime=...,
runtime_memory=...)`) and reads `max_workers` (`ComputeBackend.max_workers`), so every compute
backend must accept them with one type; `runtime_timeout` and `worker_processes` are the
Lithops keys every platform has a meaning for. `runtime_platform` is the os/arch of the images
`wren runtime build` makes (`ComputeBackend.build_platform()`): linux/amd64 by default, what
cloud platforms run, so an image built on an ARM laptop still runs there; a backend that runs
images on the client's own machine refines it to null (the engine's native platform). An
adapter builds its section's schema with
`COMPUTE_SCHEMA.extend(section, own_keys, runtime_memory={"default": 256, ...})`, refining
defaults, minimums and wording, never types. `LITHOPS_KEYS` are the Lithops keys every
compute section reads the same way (an adapter adds its own with `extend(lithops=...)`).
"""

from __future__ import annotations

from wren.config.lithops_keys import retired
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
    ConfigKey("runtime_platform", str, "linux/amd64",
              "os/arch of the runtime images `wren runtime build` makes (`--platform` "
              "overrides it), e.g. linux/amd64 or linux/arm64: the platform's machines, "
              "whatever machine builds the image", nullable=True),
)

#: Lithops keys of its compute sections that no wren compute backend needs.
LITHOPS_KEYS = (
    retired("runtime_include_function",
            "wren uploads each function once, content-addressed, and never builds a runtime "
            "per function; remove it", harmless=(False,)),
    retired("docker_server", "give the registry in the image name of `runtime` "
                             "(registry.example.com/user/image:tag)",
            harmless=("docker.io", "index.docker.io")),
    retired("user_agent", "set by Lithops itself; remove it"),
)

#: The port's schema: what every compute backend's section extends.
COMPUTE_SCHEMA = ConfigSchema("compute", COMPUTE_KEYS, lithops=LITHOPS_KEYS)

__all__ = ["COMPUTE_KEYS", "COMPUTE_SCHEMA", "LITHOPS_KEYS"]

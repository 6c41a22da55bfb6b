"""The `localhost:` config section, shared by the localhost compute and storage adapters.

```yaml
localhost:
  worker_processes: 4          # default: one per CPU core
  storage_dir: /data/wren      # default: <tmp>/wren-<uid>/storage
  storage_bucket: wren         # a directory under storage_dir
```
"""

from __future__ import annotations

import os
import tempfile

from wren.config import ConfigKey, ConfigSchema

SECTION = "localhost"


def default_storage_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"wren-{uid}", "storage")


COMPUTE_SCHEMA = ConfigSchema(SECTION, (
    ConfigKey("worker_processes", int, None,
              "worker processes in the pool; default: one per CPU core", minimum=1),
    ConfigKey("runtime", str, None,
              "container image to run the worker pool in (`default`: wren's localhost image "
              "for this Python), through the Docker API engine DOCKER_HOST names; null runs "
              "calls with this Python interpreter"),
    ConfigKey("runtime_memory", int, None,
              "accepted for compatibility; localhost does not limit memory", minimum=1),
    ConfigKey("max_workers", int, None, "alias of worker_processes (Lithops)", minimum=1),
))

STORAGE_SCHEMA = ConfigSchema(SECTION, (
    ConfigKey("storage_dir", str, default_storage_dir(),
              "directory that holds the buckets"),
    ConfigKey("storage_bucket", str, "wren", "bucket (directory) for wren's own objects"),
))

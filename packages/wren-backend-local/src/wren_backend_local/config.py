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
from wren.ports.compute_config import COMPUTE_SCHEMA as PORT_SCHEMA

SECTION = "localhost"


def default_storage_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"wren-{uid}", "storage")


COMPUTE_SCHEMA = PORT_SCHEMA.extend(
    SECTION,
    worker_processes={"doc": "worker processes in the pool; default: one per CPU core"},
    runtime={"doc": "container image to run the worker pool in (`default`: wren's localhost "
                    "image for this Python), through the Docker API engine DOCKER_HOST "
                    "names; null runs calls with this Python interpreter"},
    runtime_memory={"doc": "accepted for compatibility; localhost does not limit memory"},
    runtime_timeout={"doc": "accepted for compatibility; localhost stops a call after the "
                            "`wren` section's execution_timeout"},
    max_workers={"doc": "alias of worker_processes (Lithops)"},
)

STORAGE_SCHEMA = ConfigSchema(SECTION, (
    ConfigKey("storage_dir", str, default_storage_dir(),
              "directory that holds the buckets"),
    ConfigKey("storage_bucket", str, "wren", "bucket (directory) for wren's own objects"),
))

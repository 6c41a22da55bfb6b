"""The `localhost:` config section, shared by the localhost compute and storage adapters.

```yaml
localhost:
  worker_processes: 4          # default: one per CPU core
  storage_dir: /data/wren      # default: <tmp>/wren-<uid>/storage
  storage_bucket: wren         # a directory under storage_dir
  pool_idle_timeout: 30        # s the user's shared worker pool stays up once idle; 0: none
```

Lithops' `runtime: python3` (the interpreter's name, or its path) means what `runtime: null`
does; its `version` key (which of two localhost implementations) has no effect.

The storage directory is private: wren creates it (and `<tmp>/wren-<uid>`) 0700 and refuses
one that is a symbolic link, belongs to another user or is writable by others
(`prepare_storage_dir`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from wren import ConfigError
from wren.config import ConfigKey, ConfigSchema
from wren.config.lithops_keys import renamed, retired
from wren.ports.compute_config import COMPUTE_SCHEMA as PORT_SCHEMA
from wren.private_dirs import ensure_private_dir, user_dir

SECTION = "localhost"


STORAGE_DIR_FIX = ("remove it, or set localhost.storage_dir to a directory you own that "
                   "only you can write")


def default_storage_dir() -> str:
    return str(user_dir() / "storage")


def prepare_storage_dir(directory: str | Path) -> Path:
    """The storage directory, created 0700 (with `<tmp>/wren-<uid>` when it lies there) or
    checked to be private; `wren.StorageError` names the path and the fix otherwise."""
    return ensure_private_dir(Path(directory).expanduser(), fix=STORAGE_DIR_FIX)


def _is_interpreter(value: str) -> bool:
    """Whether `value` names a Python interpreter (a path, or a bare `python...` name) rather
    than a container image (`user/image`, `python:3.12`)."""
    if value.startswith(("/", "~")):
        return True
    return "/" not in value and ":" not in value and value.lower().startswith("python")


def _is_this_interpreter(value: str) -> bool:
    own = Path(sys.executable)
    if value.startswith(("/", "~")):
        path = Path(value).expanduser()
        return path.exists() and path.resolve() == own.resolve()
    return value in ("python", "python3", own.name,
                     f"python{sys.version_info[0]}.{sys.version_info[1]}")


def lithops_runtime(value: Any) -> Any:
    """Lithops' localhost `runtime`: this Python's interpreter (by name or path) means plain
    worker processes (`None`); any other value is a container image, as in wren."""
    if not isinstance(value, str) or not _is_interpreter(value):
        return value
    if _is_this_interpreter(value):
        return None
    raise ConfigError(f"key 'runtime' in section {SECTION!r} is {value!r}, another Python "
                      "interpreter; wren's localhost runs calls with the client's own "
                      f"({sys.executable}): remove `runtime` (or set it to null), or name a "
                      "container image")


COMPUTE_SCHEMA = PORT_SCHEMA.extend(
    SECTION,
    (ConfigKey("pool_idle_timeout", float, 30.0,
               "seconds this user's shared worker pool server stays up after its last "
               "client left, so the next script finds warm workers; 0: each client process "
               "starts its own workers", minimum=0),),
    worker_processes={"doc": "worker processes in the pool; default: one per CPU core"},
    runtime={"doc": "container image to run the worker pool in (`default`: wren's localhost "
                    "image for this Python), through the Docker API engine DOCKER_HOST "
                    "names; null runs calls with this Python interpreter"},
    runtime_memory={"doc": "accepted for compatibility; localhost does not limit memory"},
    runtime_timeout={"doc": "accepted for compatibility; localhost stops a call after the "
                            "`wren` section's execution_timeout"},
    max_workers={"doc": "alias of worker_processes (Lithops)"},
    runtime_platform={"default": None, "doc": "os/arch of the images `wren runtime build` "
                                              "makes; default: this machine's, where they run"},
    lithops=(
        renamed("runtime", "runtime", lithops_runtime,
                note="an interpreter name or path (Lithops' `python3`) is read as null"),
        retired("version", "wren has one localhost implementation; remove `version`"),
    ),
)

STORAGE_SCHEMA = ConfigSchema(SECTION, (
    ConfigKey("storage_dir", str, default_storage_dir(),
              "directory that holds the buckets"),
    ConfigKey("storage_bucket", str, "wren", "bucket (directory) for wren's own objects"),
    ConfigKey("shared_memory", bool, True,
              "keep big arguments and results (1 MiB or more) in this user's private "
              "directory in shared memory instead of the storage directory"),
    ConfigKey("shared_memory_dir", str, "/dev/shm",
              "the shared-memory filesystem that directory is made in"),
))

"""Names of a runtime's Azure resources: the image, the Container App, its queue and tags.

A runtime is an image deployed with a memory size. Its Container App and its queue share one
name derived from both (and wren's version), valid for either resource: at most 32 lowercase
letters, digits and single hyphens, starting with a letter. Tags mark the app as a wren
runtime and record what `list_runtimes` reports.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from typing import Any

from wren import ConfigError
from wren.__about__ import __version__ as wren_version

from wren_backend_azure.config import COMPUTE_SECTION

#: Tag that marks a Container App as a wren runtime; other tags carry its description.
RUNTIME_TAG = "wren-runtime"
IMAGE_TAG = "wren-image"
MEMORY_TAG = "wren-memory"
VERSION_TAG = "wren-version"
#: Memory sizes a Container App accepts on the consumption plan: 0.25 vCPU per 512 MB.
MEMORY_STEP = 512
MAX_MEMORY = 8192


def default_runtime(config: Mapping[str, Any]) -> str:
    """wren's image for this client's Python version, e.g. `wren/wren-azure-v311:0.1.0`."""
    user = config.get("docker_user") or "wren"
    server = config.get("docker_server") or "docker.io"
    name = f"{user}/wren-azure-v{sys.version_info[0]}{sys.version_info[1]}:{wren_version}"
    return name if server in ("docker.io", "index.docker.io") else f"{server}/{name}"


def runtime_name(config: Mapping[str, Any], name: str | None = None) -> str:
    """The image a runtime name means (`default` or nothing: wren's default image)."""
    chosen = name or config.get("runtime")
    return default_runtime(config) if chosen in (None, "", "default") else str(chosen)


def check_memory(memory: int) -> int:
    if memory % MEMORY_STEP or not MEMORY_STEP <= memory <= MAX_MEMORY:
        raise ConfigError(
            f"runtime_memory {memory} MB is not a Container Apps size; use a multiple of "
            f"{MEMORY_STEP} MB from {MEMORY_STEP} to {MAX_MEMORY} (512 MB = 0.25 vCPU) in "
            f"section {COMPUTE_SECTION!r}")
    return memory


def cpu_for(memory: int) -> float:
    """vCPUs that go with `memory` MB (Container Apps pairs 0.25 vCPU with 0.5 GiB)."""
    return check_memory(memory) / (MEMORY_STEP * 4)


def memory_text(memory: int) -> str:
    """Container Apps' notation for `memory` MB, e.g. `0.5Gi`."""
    return f"{check_memory(memory) / 1024:g}Gi"


def app_name(image: str, memory: int) -> str:
    """The Container App (and queue) name of a runtime."""
    digest = hashlib.sha256(f"{image}|{memory}|{wren_version}".encode()).hexdigest()[:10]
    version = "".join(ch for ch in wren_version if ch.isdigit())[:6]
    return f"wren-v{version}-{memory}mb-{digest}"


def runtime_tags(image: str, memory: int) -> dict[str, str]:
    return {RUNTIME_TAG: "true", IMAGE_TAG: image, MEMORY_TAG: str(memory),
            VERSION_TAG: wren_version}

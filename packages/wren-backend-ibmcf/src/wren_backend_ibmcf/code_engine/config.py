"""The `code_engine` config section, Code Engine's vCPU/memory combinations and prices.

```yaml
ibm:                        # shared with ibm_cf and ibm_cos (as in Lithops)
  iam_api_key: <key>
  region: us-south
  resource_group_id: <id>   # of the project wren creates when it is missing
code_engine:
  project_name: wren        # or project_id
  runtime_cpu: 0.125
  runtime_memory: 256       # MB; must be a documented combination with runtime_cpu
  registry_secret: my-icr   # image registry access secret of the project (private images)
```

A job runs with one of the vCPU/memory combinations IBM documents ("Supported memory and CPU
combinations", Table 1: CPU-intensive, balanced and memory-intensive); `check_resources`
refuses any other before anything is deployed, quoting the allowed figures.
"""

from __future__ import annotations

import sys

from wren import ConfigError
from wren.__about__ import __version__ as wren_version
from wren.config import ConfigKey
from wren.config.lithops_keys import LithopsKey, retired
from wren.ports.compute_config import COMPUTE_SCHEMA

from wren_backend_ibmcf.config import IAM_ENDPOINT, SUPPORTED_PYTHONS

COMBINATIONS_SOURCE = ("IBM Cloud Code Engine docs, 'Supported memory and CPU combinations', "
                       "https://cloud.ibm.com/docs/codeengine?topic=codeengine-mem-cpu-combo")
LIMITS_SOURCE = ("IBM Cloud Code Engine docs, 'Limits and quotas', "
                 "https://cloud.ibm.com/docs/codeengine?topic=codeengine-limits")
#: vCPU -> the memory (MB) a job instance may have with it (the documented table).
COMBINATIONS: dict[float, tuple[int, ...]] = {
    0.125: (256, 512, 1024), 0.25: (512, 1024, 2048), 0.5: (1024, 2048, 4096),
    1: (2048, 4096, 8192), 2: (4096, 8192, 16384), 4: (8192, 16384, 32768),
    6: (12288, 24576), 8: (16384, 32768),
}
#: Code Engine's published list prices (US regions, per second of a running job instance).
PRICE_PER_VCPU_SECOND = 0.00003431
PRICE_PER_GB_SECOND = 0.00000356
#: Most array indices one job run may have (`--array-indices`); bigger jobs get several runs.
MAX_ARRAY_SIZE = 1000
#: Longest a job run may run in task mode, in seconds (24 h).
MAX_EXECUTION_TIME = 86400


_REGISTRY_NOTE = ("Code Engine pulls private images with a registry access secret of the "
                  "project: create one (ibmcloud ce registry create) and set `registry_secret`")


def default_runtime(python: str | None = None) -> str | None:
    """wren's Code Engine image for a Python version (default: this one's), or None."""
    python = python or f"{sys.version_info[0]}.{sys.version_info[1]}"
    if python not in SUPPORTED_PYTHONS:
        return None
    return f"wren/code-engine-python{python.replace('.', '')}:{wren_version}"


def check_resources(cpu: float, memory: int) -> None:
    """Raise `ConfigError` unless `cpu` vCPU with `memory` MB is a documented combination."""
    allowed = COMBINATIONS.get(cpu)
    if allowed is None:
        cpus = ", ".join(f"{c:g}" for c in COMBINATIONS)
        raise ConfigError(f"Code Engine has no {cpu:g} vCPU size: set `runtime_cpu` in the "
                          f"`code_engine` section to one of {cpus} ({COMBINATIONS_SOURCE})")
    if memory not in allowed:
        sizes = ", ".join(str(m) for m in allowed)
        raise ConfigError(f"Code Engine does not run {cpu:g} vCPU with {memory} MB: with "
                          f"{cpu:g} vCPU `runtime_memory` must be one of {sizes} MB; change "
                          f"`runtime_memory` or `runtime_cpu` ({COMBINATIONS_SOURCE})")


CODE_ENGINE_SCHEMA = COMPUTE_SCHEMA.extend("code_engine", (
    ConfigKey("region", str, None, "IBM Cloud region of the project (also read from `ibm`)"),
    ConfigKey("endpoint", str, None,
              "Code Engine API; default: https://api.<region>.codeengine.cloud.ibm.com/v2"),
    ConfigKey("iam_api_key", str, None, "IBM Cloud IAM API key (also read from `ibm`)",
              secret=True),
    ConfigKey("iam_endpoint", str, IAM_ENDPOINT, "IAM token endpoint"),
    ConfigKey("project_name", str, "wren", "project to run in; created when missing"),
    ConfigKey("project_id", str, None, "id of an existing project (instead of its name)"),
    ConfigKey("resource_group_id", str, None,
              "resource group of a project wren creates (also read from `ibm`)"),
    ConfigKey("runtime_cpu", float, 0.125, "vCPU of one job instance (see the combinations)",
              choices=tuple(float(c) for c in COMBINATIONS)),
    ConfigKey("registry_secret", str, None,
              "name of the project's image registry access secret, for private images"),
    ConfigKey("invoke_pool_threads", int, 16, "client threads that create job runs",
              minimum=1),
    ConfigKey("throttle_timeout", float, 120.0,
              "seconds to keep retrying job runs the API throttles (HTTP 429)", minimum=0),
    ConfigKey("metadata_timeout", float, 600.0,
              "seconds to wait for the job run that reads a runtime's metadata", minimum=1),
    ConfigKey("insecure", bool, False, "skip TLS certificate checks of the endpoints"),
), inherit=("ibm",), lithops=(
    retired("docker_server", "the image name carries its registry: write it whole in "
            "`runtime` (us.icr.io/<namespace>/<image>:<tag>)", harmless=("docker.io",)),
    retired("docker_user", _REGISTRY_NOTE),
    LithopsKey("docker_password", _REGISTRY_NOTE, secret=True),
    retired("namespace", "wren uses the project's own Kubernetes namespace"),
    retired("connection_retries", "wren retries each request itself (`throttle_timeout`)"),
),
    runtime={"doc": "container image of the runtime; default: wren's image for this Python"},
    runtime_memory={"default": 256, "minimum": 256, "maximum": 32768,
                    "limit_source": COMBINATIONS_SOURCE,
                    "doc": "memory of one job instance, in MB (a documented combination "
                           "with `runtime_cpu`)"},
    runtime_timeout={"default": 600, "maximum": MAX_EXECUTION_TIME,
                     "limit_source": LIMITS_SOURCE,
                     "doc": "seconds a job instance may run (the job's max execution time)"},
    max_workers={"default": 1000, "doc": "job instances a wren job may use (sets the "
                                         "default chunksize)"},
    worker_processes={"default": 1, "doc": "worker processes in one job instance"},
)

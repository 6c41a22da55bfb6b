"""Config sections of the IBM Cloud adapters, with Lithops' names and defaults.

```yaml
ibm:                       # shared by ibm_cf and ibm_cos (as in Lithops)
  iam_api_key: <key>
  region: us-south
ibm_cf:
  namespace: my-namespace  # resolved to its id through IAM; or give namespace_id
  runtime_memory: 256
ibm_cos:
  storage_bucket: my-bucket
  access_key_id: <hmac id>         # or an IAM api_key / iam_api_key
  secret_access_key: <hmac secret>
openwhisk:                 # plain Apache OpenWhisk, Basic auth
  endpoint: https://openwhisk.example.com
  namespace: _
  api_key: <uuid>:<key>
```

Each compute section's bounds are its platform's published limits (`IBM_LIMITS` for IBM Cloud
Functions, `STOCK_LIMITS` for Apache OpenWhisk's defaults), so a value outside them is refused
when the config is read, with the document that sets it in the error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from wren.__about__ import __version__ as wren_version
from wren.config import ConfigKey, ConfigSchema
from wren.ports.compute_config import COMPUTE_SCHEMA

IAM_ENDPOINT = "https://iam.cloud.ibm.com/identity/token"
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12")
PACKAGE_PREFIX = "wren_"


def default_runtime(python: str | None = None) -> str | None:
    """The image for a Python version (default: this interpreter's), None if unsupported."""
    python = python or f"{sys.version_info[0]}.{sys.version_info[1]}"
    if python not in SUPPORTED_PYTHONS:
        return None
    return f"wren/ibmcf-python{python.replace('.', '')}:{wren_version}"


@dataclass(frozen=True)
class PlatformLimits:
    """The published limits of one OpenWhisk flavour, per action and per namespace.

    wren's config schemas take their bounds from these, and its errors quote `source`.
    """

    platform: str
    memory_mb: tuple[int, int]       # per action, inclusive
    timeout_s: int                   # per action, at most
    concurrent: int                  # activations executing or queued, per namespace
    per_minute: int                  # invocations per minute, per namespace
    source: str
    raise_by: str                    # who can raise the namespace limits

    def throttle_hint(self, section: str, max_workers: int | None) -> str:
        """What a 429 means on this platform and how to fix it."""
        now = f" (now {max_workers})" if max_workers else ""
        return (f"the namespace hit its limit: {self.platform} allows {self.concurrent} "
                f"activations at once and {self.per_minute:,} invocations per minute per "
                f"namespace ({self.source}); lower `max_workers` in the `{section}` "
                f"section{now} or {self.raise_by}")


#: IBM Cloud Functions, "System details and limits" (cloud.ibm.com/docs/openwhisk?topic=
#: openwhisk-limits): memory 128-2048 MB, timeout up to 600 s, 1000 concurrent activations.
IBM_LIMITS = PlatformLimits(
    "IBM Cloud Functions", (128, 2048), 600, 1000, 10_000,
    "IBM Cloud Functions, System details and limits",
    "ask IBM support to raise the namespace's limits")

#: Apache OpenWhisk's default limits, docs/reference.md "System limits": memory 128-512 MB,
#: timeout 100 ms-300 s, 100 activations in flight and 120 invocations per minute per
#: namespace. An operator may change them (Ansible inventory variables).
STOCK_LIMITS = PlatformLimits(
    "a stock Apache OpenWhisk", (128, 512), 300, 100, 120,
    "Apache OpenWhisk docs/reference.md, System limits",
    "ask the operator of your OpenWhisk to raise the namespace's limits")


def _runtime_keys() -> tuple[ConfigKey, ...]:
    return (
        ConfigKey("invoke_pool_threads", int, 64,
                  "client threads that send invocations", minimum=1),
        ConfigKey("remote_invoker", bool, False,
                  "send one invocation that fans out the job's tasks from inside the platform"),
        ConfigKey("throttle_timeout", float, 120.0,
                  "seconds the platform may throttle every invocation (HTTP 429) while none "
                  "gets through before the waiting calls fail", minimum=0),
        ConfigKey("insecure", bool, False, "skip TLS certificate checks of the endpoint"),
    )


def _runtime_refinements(limits: PlatformLimits, max_workers: int) -> dict[str, Any]:
    low, high = limits.memory_mb
    return {
        "runtime": {"doc": "container image of the runtime; default: wren's image for this "
                           "Python"},
        "runtime_memory": {"default": 256, "minimum": low, "maximum": high,
                           "limit_source": limits.source, "doc": "memory of an action, in MB"},
        "runtime_timeout": {"default": limits.timeout_s, "maximum": limits.timeout_s,
                            "limit_source": limits.source,
                            "doc": "seconds an activation may run"},
        "max_workers": {"default": max_workers,
                        "doc": f"activations a job may use at once (sets the default "
                               f"chunksize); {limits.platform} allows {limits.concurrent} "
                               f"per namespace"},
        "worker_processes": {"default": 1, "doc": "accepted for Lithops compatibility"},
    }


#: Lithops' `ibm:` section, whose keys `ibm_cf` and `ibm_cos` read when they lack their own.
IBM_SCHEMA = ConfigSchema("ibm", (
    ConfigKey("iam_api_key", str, None, "IBM Cloud IAM API key", secret=True),
    ConfigKey("region", str, None, "IBM Cloud region, e.g. us-south"),
    ConfigKey("resource_group_id", str, None, "resource group of new namespaces"),
))

IBM_CF_SCHEMA = COMPUTE_SCHEMA.extend("ibm_cf", (
    ConfigKey("endpoint", str, None,
              "Cloud Functions endpoint; default: https://<region>.functions.cloud.ibm.com"),
    ConfigKey("region", str, None, "IBM Cloud region (also read from the `ibm` section)"),
    ConfigKey("namespace", str, None, "namespace name"),
    ConfigKey("namespace_id", str, None,
              "id of an IAM namespace; default: looked up by `namespace`"),
    ConfigKey("iam_api_key", str, None, "IBM Cloud IAM API key (also read from `ibm`)",
              secret=True),
    ConfigKey("api_key", str, None, "`uuid:key` of a Cloud Foundry-based namespace",
              secret=True),
    ConfigKey("iam_endpoint", str, IAM_ENDPOINT, "IAM token endpoint"),
    ConfigKey("resource_group_id", str, None, "accepted for Lithops compatibility"),
    *_runtime_keys(),
), inherit=("ibm",), **_runtime_refinements(IBM_LIMITS, max_workers=IBM_LIMITS.concurrent))

OPENWHISK_SCHEMA = COMPUTE_SCHEMA.extend("openwhisk", (
    ConfigKey("endpoint", str, None, "OpenWhisk API host, e.g. https://openwhisk.example.com"),
    ConfigKey("namespace", str, "_", "namespace; `_` is the API key's own"),
    ConfigKey("api_key", str, None, "`uuid:key` for Basic auth", secret=True),
    *_runtime_keys(),
), **_runtime_refinements(STOCK_LIMITS, max_workers=STOCK_LIMITS.concurrent))

IBM_COS_SCHEMA = ConfigSchema("ibm_cos", (
    ConfigKey("storage_bucket", str, None, "bucket for wren's own objects"),
    ConfigKey("region", str, None, "COS region, e.g. us-south (also read from `ibm`)"),
    ConfigKey("endpoint", str, None,
              "S3 endpoint; default: https://s3.<region>.cloud-object-storage.appdomain.cloud"),
    ConfigKey("private_endpoint", str, None,
              "endpoint the workers use inside IBM Cloud (free traffic)"),
    ConfigKey("access_key_id", str, None, "HMAC access key id", secret=True),
    ConfigKey("secret_access_key", str, None, "HMAC secret access key", secret=True),
    ConfigKey("access_key", str, None, "older name of access_key_id", secret=True),
    ConfigKey("secret_key", str, None, "older name of secret_access_key", secret=True),
    ConfigKey("api_key", str, None, "IAM API key of the COS service", secret=True),
    ConfigKey("iam_api_key", str, None, "IBM Cloud IAM API key (also read from `ibm`)",
              secret=True),
    ConfigKey("service_instance_id", str, None, "COS instance id (IAM bucket creation)"),
    ConfigKey("iam_endpoint", str, IAM_ENDPOINT, "IAM token endpoint"),
    ConfigKey("max_retries", int, 6,
              "attempts per request on 5xx, throttling and connection errors", minimum=1),
    ConfigKey("connect_timeout", float, 10.0, "seconds to connect", minimum=0.1),
    ConfigKey("read_timeout", float, 120.0, "seconds to wait for data", minimum=0.1),
    ConfigKey("multipart_threshold", int, 64 * 1024 * 1024,
              "bodies at least this large are uploaded in parts", minimum=5 * 1024 * 1024),
    ConfigKey("multipart_chunksize", int, 16 * 1024 * 1024,
              "size of each uploaded part", minimum=5 * 1024 * 1024),
    ConfigKey("max_pool_connections", int, 64, "HTTP connections kept open", minimum=1),
    ConfigKey("check_credentials", bool, True,
              "check the credentials with one request when the storage is opened"),
), inherit=("ibm",))

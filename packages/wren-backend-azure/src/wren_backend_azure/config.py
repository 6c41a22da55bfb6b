"""The `azure_storage:` and `azure_containers:` config sections (Lithops' names and defaults).

```yaml
azure_storage:
  storage_account_name: myaccount
  storage_account_key: <key>            # secret; or instead:
  connection_string: <connection string> # secret, e.g. for Azurite or a private endpoint
  storage_bucket: wren-data             # a blob container, created on first use
azure_containers:
  subscription_id: <id>                 # default: env AZURE_SUBSCRIPTION_ID
  resource_group: wren-rg
  region: westeurope
  environment: wren                     # Container Apps environment, created if missing
  runtime: myuser/wren-azure-v311:0.1.0 # default: the image for this Python version
  runtime_memory: 512                   # MB, a multiple of 512; 512 MB = 0.25 vCPU
  max_workers: 100                      # replicas at most (the queue scale rule's max)
```

The queue that feeds the Container App lives in the `azure_storage` account. As in Lithops, an
`azure:` section gives `resource_group`, `region` and `subscription_id` to `azure_containers`
(its own values win), and Lithops' `location` is read as `region`.
"""

from __future__ import annotations

from wren.config import ConfigKey, ConfigSchema
from wren.config.lithops_keys import refused, renamed
from wren.ports.compute_config import COMPUTE_SCHEMA as PORT_SCHEMA

STORAGE_SECTION = "azure_storage"
COMPUTE_SECTION = "azure_containers"
SHARED_SECTION = "azure"

#: Lithops keys of `azure:` and `azure_containers:` that wren reads under other names.
LITHOPS_KEYS = (renamed("location", "region"),)

#: Lithops' `azure:` section, shared by its Azure backends.
AZURE_SCHEMA = ConfigSchema(SHARED_SECTION, (
    ConfigKey("subscription_id", str, None, "Azure subscription"),
    ConfigKey("resource_group", str, None, "resource group"),
    ConfigKey("region", str, None, "Azure region (location)"),
), lithops=LITHOPS_KEYS)

STORAGE_SCHEMA = ConfigSchema(STORAGE_SECTION, (
    ConfigKey("storage_account_name", str, None, "storage account name"),
    ConfigKey("storage_account_key", str, None, "storage account access key", secret=True),
    ConfigKey("connection_string", str, None,
              "a full connection string instead of name and key (Azurite, private endpoints)",
              secret=True),
    ConfigKey("storage_bucket", str, None,
              "blob container for wren's own objects; created when missing"),
    ConfigKey("region", str, None, "accepted for Lithops compatibility; not needed"),
    ConfigKey("max_concurrency", int, 4, "parallel connections per large transfer", minimum=1),
    ConfigKey("retries", int, 5, "retries with exponential backoff per request", minimum=0),
    ConfigKey("connect_timeout", float, 5.0, "seconds to connect to the service", minimum=0.1),
    ConfigKey("read_timeout", float, 120.0, "seconds to wait for data", minimum=0.1),
))

COMPUTE_SCHEMA = PORT_SCHEMA.extend(COMPUTE_SECTION, inherit=(SHARED_SECTION,), lithops=(
    *LITHOPS_KEYS,
    refused("environment_id", "name the Container Apps environment with `environment` (its "
                              "last path segment) in the `resource_group` of the section"),
    refused("trigger", "wren always feeds Container Apps through a storage queue (Lithops' "
                       "`pub/sub`); remove `trigger`", harmless=("pub/sub",)),
), keys=(
    ConfigKey("subscription_id", str, None, "Azure subscription; default: AZURE_SUBSCRIPTION_ID"),
    ConfigKey("resource_group", str, None, "resource group of the Container Apps"),
    ConfigKey("region", str, None, "Azure region (location) of new Container Apps"),
    ConfigKey("environment", str, "wren", "Container Apps environment; created when missing"),
    ConfigKey("tenant_id", str, None, "service principal tenant (else DefaultAzureCredential)"),
    ConfigKey("client_id", str, None, "service principal application id"),
    ConfigKey("client_secret", str, None, "service principal secret", secret=True),
    ConfigKey("authority_host", str, None, "Microsoft Entra authority for sovereign clouds"),
    ConfigKey("management_endpoint", str, "https://management.azure.com",
              "Azure Resource Manager endpoint"),
    ConfigKey("docker_server", str, "docker.io", "registry that holds the runtime image"),
    ConfigKey("docker_user", str, None, "registry user (also the default image's namespace)"),
    ConfigKey("docker_password", str, None, "registry password or token", secret=True),
    ConfigKey("invoke_pool_threads", int, 16, "client threads that enqueue tasks", minimum=1),
    ConfigKey("max_dequeue_count", int, 5,
              "deliveries of one task before its calls fail instead of retrying", minimum=1),
    ConfigKey("visibility_margin", float, 30.0,
              "seconds added to a task's time budget before its message is delivered again",
              minimum=1),
    ConfigKey("max_queue_wait", float, 3600.0,
              "seconds a task may wait in the queue before the client gives up on it",
              minimum=1),
    ConfigKey("runtime_start_timeout", float, 600.0,
              "seconds to wait for a container to report the runtime's metadata", minimum=1),
),
    runtime={"doc": "runtime image; default: wren's image for this Python"},
    runtime_memory={"default": 512, "minimum": 512,
                    "doc": "MB per container, a multiple of 512 up to 8192"},
    runtime_timeout={"default": 600, "doc": "seconds a call may run in this runtime at most"},
    max_workers={"default": 100, "doc": "most containers at once (queue scale rule max)"},
    worker_processes={"default": 1, "doc": "consumer processes per container"},
)

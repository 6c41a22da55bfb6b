"""The `azure_storage:` and `azure_containers:` config sections (Lithops' names and defaults).

```yaml
azure_storage:
  storage_account_name: myaccount
  storage_account_key: <key>            # secret; or instead:
  connection_string: <connection string> # secret, e.g. for Azurite or a private endpoint
  storage_bucket: wren-data             # a blob container, created on first use
  endpoint_suffix: core.windows.net     # another cloud: core.chinacloudapi.cn, core.usgovcloudapi.net
azure_containers:
  subscription_id: <id>                 # default: env AZURE_SUBSCRIPTION_ID
  resource_group: wren-rg
  region: westeurope
  environment: wren                     # Container Apps environment, created if missing
  runtime: myuser/wren-azure-v311:0.1.0 # default: the image for this Python version
  runtime_memory: 512                   # MB, a multiple of 512; 512 MB = 0.25 vCPU
  max_workers: 100                      # replicas at most (the queue scale rule's max)
  registry_identity: system             # or a user-assigned identity's resource id: ACR pull
```

Platform limits are bounds of the keys (`maximum=`, with the document that sets them in
`limit_source`), so a value Azure would refuse fails when the config is read, before any
request; `check_combination` checks what one key alone cannot (CPU and memory go in pairs).

The queue that feeds the Container App lives in the `azure_storage` account. As in Lithops, an
`azure:` section gives `resource_group`, `region` and `subscription_id` to `azure_containers`
(its own values win), and Lithops' `location` is read as `region`.
"""

from __future__ import annotations

from wren.config import ConfigKey, ConfigSchema
from wren.config.lithops_keys import refused, renamed
from wren.ports.compute_config import COMPUTE_SCHEMA as PORT_SCHEMA

#: Where the platform limits below are published.
CONTAINER_APPS_RESOURCES = ("Azure Container Apps: containers, CPU and memory combinations "
                            "0.25 vCPU/0.5 GiB to 4 vCPU/8 GiB")
CONTAINER_APPS_QUOTAS = "Azure Container Apps quotas: at most 1000 replicas per revision"
CONTAINER_APPS_SHUTDOWN = ("Azure Container Apps application lifecycle, shutdown: "
                           "terminationGracePeriodSeconds at most 600 on the consumption plan")
QUEUE_VISIBILITY = "Azure Queue Storage, Update Message: a visibility timeout is at most 7 days"
QUEUE_TTL = "Azure Queue Storage, Put Message: a message lives 7 days by default"
#: Seven days, the queue's longest visibility timeout and a message's default lifetime.
SEVEN_DAYS = 7 * 24 * 3600

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
    ConfigKey("endpoint_suffix", str, "core.windows.net",
              "DNS suffix of the account's endpoints: core.chinacloudapi.cn (Azure China), "
              "core.usgovcloudapi.net (Azure Government); ignored with `connection_string`"),
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
    ConfigKey("registry_identity", str, None,
              "pull from Azure Container Registry with a managed identity instead of a "
              "password: the resource id of a user-assigned identity that holds AcrPull on "
              "the registry, or `system` for the app's system-assigned identity"),
    ConfigKey("invoke_pool_threads", int, 16, "client threads that enqueue tasks", minimum=1),
    ConfigKey("max_dequeue_count", int, 5,
              "deliveries of one task before its calls fail instead of retrying", minimum=1),
    ConfigKey("visibility_margin", float, 30.0,
              "seconds for loading and storing, on top of the calls' timeouts, in a task's "
              "time budget", minimum=1, maximum=SEVEN_DAYS, limit_source=QUEUE_VISIBILITY),
    ConfigKey("message_lease", float, 60.0,
              "seconds a task's message stays hidden from other consumers; the consumer "
              "renews it while the task runs, so a lost container's task is delivered again "
              "within this time", minimum=10, maximum=SEVEN_DAYS,
              limit_source=QUEUE_VISIBILITY),
    ConfigKey("termination_grace_period", int, 600,
              "seconds a replica stopped by scale-in may finish its tasks before it is "
              "killed (unfinished tasks are handed back to the queue just before)",
              minimum=0, maximum=600, limit_source=CONTAINER_APPS_SHUTDOWN),
    ConfigKey("max_queue_wait", float, 3600.0,
              "seconds a task may wait in the queue before the client gives up on it",
              minimum=1, maximum=SEVEN_DAYS, limit_source=QUEUE_TTL),
    ConfigKey("runtime_start_timeout", float, 600.0,
              "seconds to wait for a container to report the runtime's metadata", minimum=1),
    ConfigKey("provision_timeout", float, 1800.0,
              "seconds to wait for Azure to provision the environment or a revision",
              minimum=1),
    ConfigKey("status_poll_interval", float, 5.0,
              "seconds between two reads of a revision's status while waiting for it",
              minimum=0.05),
),
    runtime={"doc": "runtime image; default: wren's image for this Python"},
    runtime_memory={"default": 512, "minimum": 512, "maximum": 8192,
                    "limit_source": CONTAINER_APPS_RESOURCES,
                    "doc": "MB per container, a multiple of 512 (0.25 vCPU per 512 MB)"},
    runtime_timeout={"default": 600, "maximum": SEVEN_DAYS, "limit_source": QUEUE_TTL,
                     "doc": "seconds a call may run in this runtime at most"},
    max_workers={"default": 100, "maximum": 1000, "limit_source": CONTAINER_APPS_QUOTAS,
                 "doc": "most containers at once (queue scale rule max)"},
    worker_processes={"default": 1, "doc": "consumer processes per container"},
)

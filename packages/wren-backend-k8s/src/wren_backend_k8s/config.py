"""The `k8s:` config section (Lithops' keys where it has them, same meaning) and its defaults.

```yaml
k8s:
  kubecfg_path: ~/.kube/config     # default: $KUBECONFIG, ~/.kube/config, else in-cluster
  namespace: wren                  # default: the context's namespace, else `default`
  service_account: wren-worker     # the pods' service account
  runtime: registry.example.com/me/wren-k8s-v311:0.1.0
  runtime_memory: 512              # MiB per pod (request and limit)
  runtime_cpu: 1                   # vCPU per pod (request and limit)
  max_workers: 100                 # pods running at once per job (the Job's parallelism)
  node_selector: {pool: batch}
  tolerations: [{key: batch, operator: Exists, effect: NoSchedule}]
  image_pull_secrets: [my-registry]   # or docker_user + docker_password: wren makes one
```
"""

from __future__ import annotations

from wren.config import ConfigKey
from wren.config.lithops_keys import retired
from wren.ports import images
from wren.ports.compute_config import COMPUTE_SCHEMA

SECTION = "k8s"
#: Where the bounds below come from.
LIMITS = ("wren's k8s backend: a wren worker needs 64 MiB; a pod over 512 GiB fits no common "
          "node; a finished Job kept over a week is clutter")

SCHEMA = COMPUTE_SCHEMA.extend(SECTION, (
    ConfigKey("kubecfg_path", str, None,
              "kubeconfig file; default $KUBECONFIG or ~/.kube/config, else in-cluster config"),
    ConfigKey("context", str, None, "kubeconfig context to use; default: its current context"),
    ConfigKey("namespace", str, None,
              "namespace of the Jobs; default: the context's namespace, else `default`"),
    ConfigKey("service_account", str, None, "service account of the pods; default: the "
              "namespace's `default` (the pods need no API access)"),
    ConfigKey("node_selector", dict, None, "nodeSelector of the pods (label: value)"),
    ConfigKey("tolerations", list, None, "tolerations of the pods, as Kubernetes writes them"),
    ConfigKey("image_pull_secrets", list, None, "names of existing image-pull Secrets of "
              "the namespace the pods use"),
    ConfigKey("docker_server", str, "docker.io", "registry of the runtime images"),
    ConfigKey("docker_user", str, None, "registry user: `wren runtime build` pushes with it, "
              "and with docker_password the pods pull through an image-pull Secret"),
    ConfigKey("docker_password", str, None, "registry password or token", secret=True),
    ConfigKey("runtime_cpu", float, 1.0, "vCPUs of each pod (request and limit)",
              minimum=0.001, maximum=1024, limit_source=LIMITS),
    ConfigKey("job_ttl", int, 3600, "seconds a finished Job (and its pods and Secret) stays "
              "before Kubernetes deletes it (ttlSecondsAfterFinished)", minimum=0,
              maximum=7 * 24 * 3600, limit_source=LIMITS),
    ConfigKey("invoke_pool_threads", int, 8, "client threads that create Jobs", minimum=1),
    ConfigKey("invoke_retries", int, 5, "retries of a Job creation that failed with a 5xx "
              "answer or a connection error, with exponential backoff", minimum=0),
    ConfigKey("deploy_timeout", int, 300, "seconds `deploy` waits for the validation pod",
              minimum=1),
),
    runtime={"doc": "runtime image; default: <docker_user>/wren-k8s-v<python>:<wren version>"},
    runtime_memory={"default": 512, "minimum": 64, "maximum": 512 * 1024,
                    "limit_source": LIMITS, "doc": "memory of each pod in MiB (request and "
                    "limit: a pod over it is OOMKilled)"},
    runtime_timeout={"default": 600, "doc": "seconds a pod may run "
                                            "(activeDeadlineSeconds)"},
    worker_processes={"default": 1, "doc": "worker processes in each pod"},
    max_workers={"default": 100, "doc": "pods of one job running at once (its parallelism)"},
    lithops=(retired("master_timeout", "wren runs no master pod: each pod finds its task by "
                                       "its completion index"),),
)


def default_image(docker_server: str | None, docker_user: str | None) -> str:
    """The image `default` stands for: this Python's and this wren's k8s runtime."""
    return images.default_image("k8s", docker_server, docker_user)

"""The `knative:` config section (Lithops' keys, same meaning) and its defaults.

```yaml
knative:
  kubecfg_path: ~/.kube/config     # default: $KUBECONFIG, ~/.kube/config, else in-cluster
  context: my-cluster              # kubeconfig context; default: the current one
  namespace: default               # default: the context's namespace, else `default`
  networking_layer: kourier        # or istio: where to find the ingress gateway
  ingress_endpoint: http://1.2.3.4:80   # skip discovery, send requests here
  visibility: external             # or cluster-local: no public route (client in the cluster)
  docker_server: docker.io         # registry of the runtime images
  docker_user: me                  # with docker_password: an image-pull secret is made
  docker_password: <token>
  runtime: me/my-runtime:1         # default: <docker_user>/wren-knative-v<py>:<wren version>
  runtime_cpu: 0.5                 # vCPU per pod (request and limit)
  runtime_memory: 256              # MB per pod (request and limit)
  runtime_timeout: 600             # Knative request timeout and drain time, seconds (<= 600)
  concurrency: 1                   # calls one pod runs at once (containerConcurrency, <= 1000)
  max_workers: 100                 # calls at once in all; max-scale = max_workers/concurrency
  invoke_mode: auto                # hold | async | auto: hold a task's request while it runs
  scale_down_delay: 300            # seconds the autoscaler keeps pods after demand fell
  ingress_ca: /path/ca.pem         # CA of the gateway's https certificate (http-protocol)
```

Platform limits are bounds of the keys (checked when the config is read, before anything is
deployed), each citing where Knative publishes it: `runtime_timeout` at most 600 s (Knative's
default `max-revision-timeout-seconds`), `concurrency` at most 1000 (its default
`container-concurrency-max-limit`), `scale_down_delay` at most 3600 s (the autoscaler's
longest window).

Lithops' `git_url` and `git_rev` (its in-cluster image build) have no effect: build the
runtime image with `wren runtime build`.
"""

from __future__ import annotations

import sys

from wren.config import ConfigKey
from wren.config.lithops_keys import retired
from wren.ports import images
from wren.ports.compute_config import COMPUTE_SCHEMA

SECTION = "knative"
NETWORKING_LAYERS = ("kourier", "istio")
VISIBILITIES = ("external", "cluster-local")
INVOKE_MODES = ("auto", "hold", "async")
#: Where Knative Serving publishes the limits below (config/core/configmaps/defaults.yaml and
#: pkg/apis/autoscaling/annotation_validation.go of knative/serving, v1.23).
TIMEOUT_SOURCE = ("Knative Serving's default max-revision-timeout-seconds in the "
                  "config-defaults ConfigMap")
CONCURRENCY_SOURCE = ("Knative Serving's default container-concurrency-max-limit in the "
                      "config-defaults ConfigMap")
DELAY_SOURCE = "Knative's autoscaling.knative.dev/scale-down-delay accepts 0s to 1h"
CPU_SOURCE = "Kubernetes CPU quantities have a resolution of 1m (0.001 vCPU)"
MAX_TIMEOUT, MAX_CONCURRENCY, MAX_SCALE_DOWN_DELAY = 600, 1000, 3600

SCHEMA = COMPUTE_SCHEMA.extend(SECTION, (
    ConfigKey("kubecfg_path", str, None,
              "kubeconfig file; default $KUBECONFIG or ~/.kube/config, else in-cluster config"),
    ConfigKey("context", str, None, "kubeconfig context to use; default: its current context"),
    ConfigKey("namespace", str, None,
              "namespace of the runtimes; default: the context's namespace, else `default`"),
    ConfigKey("networking_layer", str, "kourier", "Knative networking layer whose ingress "
              "gateway receives requests", choices=NETWORKING_LAYERS),
    ConfigKey("ingress_endpoint", str, None,
              "URL of the ingress gateway (e.g. http://127.0.0.1:80); default: discovered"),
    ConfigKey("istio_endpoint", str, None, "older name of ingress_endpoint (Lithops)"),
    ConfigKey("visibility", str, "external", "`cluster-local` labels the runtime Services "
              "networking.knative.dev/visibility=cluster-local (no public route) and sends "
              "requests to their cluster-local address, or to ingress_endpoint when set",
              choices=VISIBILITIES),
    ConfigKey("docker_server", str, "docker.io", "container registry of the runtime images"),
    ConfigKey("docker_user", str, None, "registry user; with docker_password the cluster "
              "pulls runtime images through an image-pull secret"),
    ConfigKey("docker_password", str, None, "registry password or token", secret=True),
    ConfigKey("runtime_cpu", float, 0.5, "vCPUs of each runtime pod", minimum=0.001,
              limit_source=CPU_SOURCE),
    ConfigKey("runtime_min_instances", int, 0, "pods kept running when idle (min-scale)",
              minimum=0),
    ConfigKey("concurrency", int, 1, "calls one pod runs at once (its worker processes and "
              "containerConcurrency)", minimum=1, maximum=MAX_CONCURRENCY,
              limit_source=CONCURRENCY_SOURCE),
    ConfigKey("invoke_mode", str, "auto", "`hold`: a task's request stays open while it runs, "
              "so Knative's autoscaler counts the work; `async`: the runtime answers 202 at "
              "once; `auto`: hold when the task's longest run (call timeout x calls) fits "
              "in `runtime_timeout`, else async", choices=INVOKE_MODES),
    ConfigKey("scale_down_delay", int, 300, "seconds Knative keeps a revision's pods after "
              "its demand fell (autoscaling.knative.dev/scale-down-delay): protects tasks "
              "that run in the background (async)", minimum=0, maximum=MAX_SCALE_DOWN_DELAY,
              limit_source=DELAY_SOURCE),
    ConfigKey("ingress_ca", str, None, "CA bundle (PEM file) that signed the gateway's https "
              "certificate, for a cluster whose http-protocol is Redirected; default: the "
              "system's CAs"),
    ConfigKey("invoke_pool_threads", int, 64, "client threads that send tasks", minimum=1),
    ConfigKey("invoke_retries", int, 5, "retries of a request that failed with a 5xx answer "
              "or a connection error, with exponential backoff", minimum=0),
    ConfigKey("deploy_timeout", int, 300, "seconds to wait for a deployed runtime to become "
              "Ready", minimum=1),
),
    runtime={"doc": "runtime image; default: <docker_user>/wren-knative-v<python>:<wren "
                    "version>"},
    runtime_memory={"default": 256, "minimum": 32, "doc": "memory of each runtime pod in MB"},
    runtime_timeout={"default": 600, "maximum": MAX_TIMEOUT, "limit_source": TIMEOUT_SOURCE,
                     "doc": "Knative request timeout of the runtime (timeoutSeconds), and how "
                            "long a stopping pod may finish its calls, in seconds"},
    worker_processes={"doc": "Lithops name of concurrency", "maximum": MAX_CONCURRENCY,
                      "limit_source": CONCURRENCY_SOURCE},
    max_workers={"default": 100, "doc": "calls running at once in all pods"},
    lithops=tuple(retired(name, "wren does not build images in the cluster: build the runtime "
                                "with `wren runtime build` and name it in `runtime`")
                  for name in ("git_url", "git_rev")),
)


def python_tag() -> str:
    return f"{sys.version_info[0]}{sys.version_info[1]}"


def default_image(docker_server: str | None, docker_user: str | None) -> str:
    """The image `default` stands for: this Python's and this wren's Knative runtime."""
    return images.default_image("knative", docker_server, docker_user)

"""The Container App that runs one runtime's queue consumers, as the ARM model to send.

One container from the runtime image, sized from `runtime_memory` (0.25 vCPU per 512 MB);
its credentials as app secrets referenced by environment variables; an `azure-queue` scale
rule on the runtime's queue (0 replicas when the queue is empty, at most `max_workers`, one
replica per `worker_processes` waiting messages); tags that mark it as a wren runtime.
"""

from __future__ import annotations

from typing import Any

from wren_backend_azure.naming import cpu_for, memory_text
from wren_backend_azure.settings import QUEUE_CONNECTION, SECRET_NAMES, ConsumerSettings

REGISTRY_SECRET = "registry-password"
CONTAINER_NAME = "wren-consumer"
SCALE_RULE = "wren-queue"


def container_app(settings: ConsumerSettings, *, memory: int, region: str,
                  environment_id: str, max_workers: int, tags: dict[str, str],
                  registry: tuple[str, str, str] | None = None) -> Any:
    """The `ContainerApp` model for a runtime; `registry` is (server, user, password)."""
    from azure.mgmt.appcontainers import models as m

    secret_values = {SECRET_NAMES[env]: value for env, value in settings.secret_env().items()}
    registries = None
    if registry is not None:
        server, user, password = registry
        secret_values[REGISTRY_SECRET] = password
        registries = [m.RegistryCredentials(server=server, username=user,
                                            password_secret_ref=REGISTRY_SECRET)]
    env = [m.EnvironmentVar(name=name, value=value)
           for name, value in sorted(settings.plain_env().items())]
    env += [m.EnvironmentVar(name=name, secret_ref=SECRET_NAMES[name])
            for name in sorted(settings.secret_env())]
    scale_rule = m.ScaleRule(name=SCALE_RULE, azure_queue=m.QueueScaleRule(
        queue_name=settings.queue, queue_length=settings.processes,
        auth=[m.ScaleRuleAuth(secret_ref=SECRET_NAMES[QUEUE_CONNECTION],
                              trigger_parameter="connection")]))
    container = m.Container(name=CONTAINER_NAME, image=settings.runtime, env=env,
                            resources=m.ContainerResources(cpu=cpu_for(memory),
                                                           memory=memory_text(memory)))
    return m.ContainerApp(
        location=region, tags=tags,
        properties=m.ContainerAppProperties(
            environment_id=environment_id,
            configuration=m.Configuration(
                active_revisions_mode="Single", registries=registries,
                secrets=[m.Secret(name=name, value=value)
                         for name, value in sorted(secret_values.items())]),
            template=m.Template(
                containers=[container],
                scale=m.Scale(min_replicas=0, max_replicas=max_workers,
                              rules=[scale_rule]))))

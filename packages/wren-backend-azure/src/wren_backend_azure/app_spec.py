"""The Container App that runs one runtime's queue consumers, as the ARM model to send.

One container from the runtime image, sized from `runtime_memory` (0.25 vCPU per 512 MB);
its credentials as app secrets referenced by environment variables; an `azure-queue` scale
rule on the runtime's queue (0 replicas when the queue is empty, at most `max_workers`, one
replica per `worker_processes` waiting messages); `terminationGracePeriodSeconds` so a replica
stopped by scale-in can finish its tasks; the registry's credentials (a password kept as a
secret, or a managed identity that ACR trusts); tags that mark it as a wren runtime.
The models are built with the keyword names every `azure-mgmt-appcontainers` since 3.0
accepts (before 5.0 the `properties` of a resource are flattened into it, and 5.x still takes
them so), so the same code runs on the oldest and the newest SDK the package allows.
"""

from __future__ import annotations

from typing import Any

import attrs

from wren_backend_azure.naming import cpu_for, memory_text
from wren_backend_azure.settings import QUEUE_CONNECTION, SECRET_NAMES, ConsumerSettings

REGISTRY_SECRET = "registry-password"
CONTAINER_NAME = "wren-consumer"
SCALE_RULE = "wren-queue"
#: `registry_identity` value for the app's own (system-assigned) identity.
SYSTEM_IDENTITY = "system"


@attrs.frozen
class Registry:
    """How replicas pull the image: a user and a password, or a managed identity."""

    server: str
    user: str = ""
    password: str | None = attrs.field(default=None, repr=False)
    identity: str | None = None


def _registry(registry: Registry, secrets: dict[str, str]) -> tuple[Any, Any]:
    """The `RegistryCredentials` and the app's `ManagedServiceIdentity` (or None)."""
    from azure.mgmt.appcontainers import models

    m: Any = models  # flattened keywords: accepted by every SDK, typed only before 5.0
    if registry.identity is None:
        assert registry.password is not None
        secrets[REGISTRY_SECRET] = registry.password
        return m.RegistryCredentials(server=registry.server, username=registry.user,
                                     password_secret_ref=REGISTRY_SECRET), None
    credentials = m.RegistryCredentials(server=registry.server, identity=registry.identity)
    if registry.identity.lower() == SYSTEM_IDENTITY:
        return credentials, m.ManagedServiceIdentity(type="SystemAssigned")
    return credentials, m.ManagedServiceIdentity(
        type="UserAssigned", user_assigned_identities={registry.identity: m.UserAssignedIdentity()})


def container_app(settings: ConsumerSettings, *, memory: int, region: str,
                  environment_id: str, max_workers: int, tags: dict[str, str],
                  registry: Registry | None = None) -> Any:
    """The `ContainerApp` model for a runtime."""
    from azure.mgmt.appcontainers import models

    m: Any = models  # flattened keywords: accepted by every SDK, typed only before 5.0

    secret_values = {SECRET_NAMES[env]: value for env, value in settings.secret_env().items()}
    registries, identity = None, None
    if registry is not None:
        credentials, identity = _registry(registry, secret_values)
        registries = [credentials]
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
        location=region, tags=tags, identity=identity,
        environment_id=environment_id,
        configuration=m.Configuration(
            active_revisions_mode="Single", registries=registries,
            secrets=[m.Secret(name=name, value=value)
                     for name, value in sorted(secret_values.items())]),
        template=m.Template(
            termination_grace_period_seconds=settings.grace_period,
            containers=[container],
            scale=m.Scale(min_replicas=0, max_replicas=max_workers, rules=[scale_rule])))
